import pino from "pino";
import pretty from "pino-pretty";

// One structured logger for the web process, the worker and the CLI. Callers
// add the ids involved with logger.child({ incidentId, seriesId, jobId }).
// Redaction is a second line of defence: secrets should never reach a log
// call in the first place.

export type LogFormat = "pretty" | "json";

/**
 * Returns the log format for a LOG_FORMAT value: "pretty" or "json" as
 * given, and when unset, pretty on a terminal and JSON otherwise. An
 * invalid value also gets the default here, because lib/config.ts reports
 * it at start-up.
 */
export function resolveLogFormat(
  value: string | undefined,
  stdoutIsTty: boolean,
): LogFormat {
  if (value === "pretty" || value === "json") return value;
  return stdoutIsTty ? "pretty" : "json";
}

export const logFormat = resolveLogFormat(
  process.env.LOG_FORMAT,
  process.stdout.isTTY === true,
);

const options: pino.LoggerOptions = {
  level: process.env.LOG_LEVEL ?? "info",
  base: { process: process.env.VIGIL_PROCESS ?? "vigil" },
  redact: {
    paths: [
      "password",
      "*.password",
      "passwordHash",
      "*.passwordHash",
      "token",
      "*.token",
      "authorization",
      "*.authorization",
      "headers.authorization",
      "req.headers.authorization",
      "secret",
      "*.secret",
    ],
    censor: "[redacted]",
  },
  timestamp: pino.stdTimeFunctions.isoTime,
};

/**
 * Builds the pretty stream. It formats in this thread and writes
 * synchronously, unlike a pino transport, which would start a worker
 * thread that has to load pino-pretty by path (inside `next start` too).
 */
function prettyStream() {
  return pretty({
    destination: 1,
    sync: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "process",
    messageFormat: "[{process}] {msg}",
    singleLine: true,
  });
}

export const logger =
  logFormat === "pretty" ? pino(options, prettyStream()) : pino(options);

export type Logger = typeof logger;
