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

/**
 * Error fields that hold connection objects instead of facts about the
 * error. pg-pool sets err.client to the whole pg.Client of an idle
 * connection that failed, which would add kilobytes to the line.
 */
const OMITTED_ERROR_FIELDS = ["client", "connection"];

/**
 * Serializes an error with pino's standard serializer (type, message,
 * stack, code and the other own fields) minus OMITTED_ERROR_FIELDS. Values
 * that are not errors pass through unchanged.
 */
export function serializeError(value: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(value as Error);
  if (serialized === value || typeof serialized !== "object") {
    return serialized;
  }
  for (const field of OMITTED_ERROR_FIELDS) {
    delete (serialized as Record<string, unknown>)[field];
  }
  return serialized;
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Returns the level from LOG_LEVEL, or info when it is not a pino level.
 * The logger is created before lib/config.ts validates the environment, and
 * pino would throw on an unknown level. The config check then names the
 * variable.
 */
function levelFromEnv(): string {
  const level = process.env.LOG_LEVEL;
  return level && LEVELS.includes(level) ? level : "info";
}

export const loggerOptions: pino.LoggerOptions = {
  level: levelFromEnv(),
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
  // graphile-worker logs its errors under "error", Vigil's code under "err".
  serializers: { err: serializeError, error: serializeError },
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

// Both streams write synchronously, so log lines and the start command's
// plain output lines reach the terminal in the order they were written.
export const logger =
  logFormat === "pretty"
    ? pino(loggerOptions, prettyStream())
    : pino(loggerOptions, pino.destination({ dest: 1, sync: true }));

export type Logger = typeof logger;
