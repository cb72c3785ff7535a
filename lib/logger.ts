import pino from "pino";

// One structured logger for the web process, the worker and the CLI. Callers
// add the ids involved with logger.child({ incidentId, seriesId, jobId }).
// Redaction is a second line of defence: secrets should never reach a log
// call in the first place.
export const logger = pino({
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
});

export type Logger = typeof logger;
