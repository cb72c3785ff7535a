import path from "node:path";
import { z } from "zod";

// Every environment variable Vigil reads, validated once. .env.example
// documents the same list; keep the two in step.

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .optional()
  .transform((value) => value === "true" || value === "1" || value === "yes");

/** Like booleanFlag, but true when the variable is unset or empty. */
const booleanFlagDefaultTrue = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .optional()
  .transform(
    (value) => !(value === "false" || value === "0" || value === "no"),
  );

const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback);

const port = (fallback: number) =>
  z.coerce.number().int().min(1).max(65535).default(fallback);

/** Comma-separated Prometheus label names; empty turns alert grouping off. */
const alertGroupLabels = z
  .string()
  .default("alertname")
  .transform((value) =>
    value
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== ""),
  )
  .refine((names) => names.every((name) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)), {
    message: "must be comma-separated label names such as alertname,cluster",
  });

/**
 * Comma-separated deployment environments that the deployment KPIs count;
 * "*" counts every environment and gives null.
 */
const kpiDeploymentEnvironments = z
  .string()
  .default("production")
  .transform((value) =>
    value
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name !== ""),
  )
  .refine((names) => names.length > 0, {
    message: "must name at least one environment, such as production, or * for every environment",
  })
  .refine((names) => names.every((name) => name === "*" || /^[A-Za-z0-9._-]{1,63}$/.test(name)), {
    message: "must be comma-separated environment names such as production,canary, or *",
  })
  .transform((names): string[] | null => (names.includes("*") ? null : [...new Set(names)]));

const envSchema = z.object({
  NODE_ENV: z
    .enum(["development", "production", "test"])
    .default("development"),
  DATABASE_URL: z
    .string()
    .url()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), {
      message: "must start with postgres:// or postgresql://",
    })
    .optional(),
  VIGIL_DATA_DIR: z.string().min(1).default(".vigil"),
  VIGIL_EMBEDDED_PG_PORT: port(5544),
  PORT: port(3000),
  VIGIL_HOST: z.string().min(1).default("127.0.0.1"),
  NEXTAUTH_URL: z.string().url().optional(),
  NEXTAUTH_SECRET: z.string().min(32).optional(),
  VIGIL_ADMIN_EMAIL: z.string().email().optional(),
  VIGIL_ADMIN_PASSWORD: z.string().min(12).optional(),
  VIGIL_DEMO: booleanFlag,
  VIGIL_DEMO_SPEED: positiveInt(60),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  // Unset: pretty when stdout is a terminal, JSON otherwise (lib/logger.ts).
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
  VIGIL_WORKER_CONCURRENCY: positiveInt(2),
  VIGIL_MIN_TRAINING_POINTS: positiveInt(200),
  VIGIL_AUTO_RESOLVE: booleanFlagDefaultTrue,
  VIGIL_INGEST_MAX_BODY_BYTES: positiveInt(5 * 1024 * 1024),
  VIGIL_INGEST_MAX_POINTS: positiveInt(100_000),
  VIGIL_INGEST_MAX_AGE_DAYS: positiveInt(365),
  VIGIL_INGEST_MAX_FUTURE_MINUTES: positiveInt(10),
  VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR: positiveInt(10_000),
  VIGIL_CHROMIUM_PATH: z.string().optional(),
  VIGIL_GITHUB_WEBHOOK_SECRET: z.string().min(1).optional(),
  // Base URL of incident links in notifications; unset: NEXTAUTH_URL, else
  // http://localhost:$PORT (lib/notifications/settings.ts).
  VIGIL_PUBLIC_URL: z.string().url().optional(),
  VIGIL_NOTIFY_TIMEOUT_MS: positiveInt(10_000),
  VIGIL_NOTIFY_MAX_ATTEMPTS: positiveInt(5),
  VIGIL_NOTIFY_RETRY_BASE_SECONDS: z.coerce.number().positive().default(30),
  // Incident grouping and change correlation (lib/incidents/grouping.ts,
  // lib/incidents/suspects.ts). A window of 0 turns grouping off.
  VIGIL_GROUPING_WINDOW_MINUTES: z.coerce.number().int().min(0).max(1440).default(10),
  VIGIL_ALERT_GROUP_LABELS: alertGroupLabels,
  // Open alert incidents of one service, opened within the grouping window,
  // after which new alerts of any name join the newest of them. 0 turns the
  // cap off.
  VIGIL_ALERT_STORM_INCIDENTS: z.coerce.number().int().min(0).max(1000).default(3),
  // A firing alert whose incident resolved less than this many minutes
  // before it started reopens that incident. 0 turns reopening off.
  VIGIL_ALERT_FLAP_WINDOW_MINUTES: z.coerce.number().int().min(0).max(1440).default(10),
  VIGIL_SUSPECT_LOOKBACK_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  // An incident of a service opened this many minutes or fewer after one of
  // its deployments counts that deployment as failed (change failure rate).
  VIGIL_CHANGE_FAILURE_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
  // Deployments of other environments, such as staging, are stored and
  // listed on the service pages but left out of the deployment KPIs.
  VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS: kpiDeploymentEnvironments,
});

export type Config = z.infer<typeof envSchema> & { dataDir: string };

export class ConfigError extends Error {}

/** Parses an environment into a Config, naming every invalid variable. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".")}: ${issue.message}`,
    );
    throw new ConfigError(
      `Invalid environment configuration:\n  ${problems.join("\n  ")}`,
    );
  }
  return { ...result.data, dataDir: path.resolve(result.data.VIGIL_DATA_DIR) };
}

let cached: Config | undefined;

/** Returns the validated configuration of this process, parsed on first use. */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
