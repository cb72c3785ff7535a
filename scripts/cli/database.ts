import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import type { Config } from "@/lib/config";
import { startEmbeddedPostgres } from "@/lib/embedded-postgres";
import { logger } from "@/lib/logger";
import { migrate } from "@/lib/migrate";
import { installQueueSchema } from "@/lib/queue";

import { CliError } from "./output";

// Database resolution shared by every command: DATABASE_URL when set,
// otherwise the embedded PostgreSQL cluster in <dataDir>/pg.

export type ResolvedDatabase = {
  url: string;
  // "external" (DATABASE_URL), "embedded" (started here) or "running"
  // (an embedded cluster another process started earlier).
  kind: "external" | "embedded" | "running";
  stop: () => Promise<void>;
};

export type RunningCluster = { pid: number; port: number; clusterDir: string };

const EMBEDDED_DATABASE = "vigil";

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // On Linux, rule out a reused pid that now belongs to something else.
  const cmdline = `/proc/${pid}/cmdline`;
  if (existsSync("/proc/self/cmdline")) {
    try {
      return readFileSync(cmdline, "utf8").includes("postgres");
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Returns the embedded cluster that is still running on <dataDir>/pg, read
 * from PostgreSQL's postmaster.pid (line 1: pid, line 4: port), or
 * undefined when none runs there.
 */
export function findRunningCluster(
  dataDir: string,
): RunningCluster | undefined {
  const clusterDir = path.join(dataDir, "pg");
  const pidFile = path.join(clusterDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;

  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresProcess(pid)) {
    return undefined;
  }
  return { pid, port, clusterDir };
}

function runningClusterUrl(dataDir: string, cluster: RunningCluster): string {
  const passwordFile = path.join(dataDir, "pg-password");
  if (!existsSync(passwordFile)) {
    throw new CliError(
      `An embedded PostgreSQL runs on ${cluster.clusterDir} (pid ${cluster.pid}) but ${passwordFile} is missing, so Vigil cannot log in to it.`,
    );
  }
  const password = readFileSync(passwordFile, "utf8").trim();
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${EMBEDDED_DATABASE}`;
}

/**
 * Resolves the database. `start` owns the embedded cluster, so it rejects a
 * cluster that is still running from an earlier run. The other commands
 * connect to such a cluster, so that they work while Vigil runs.
 */
export async function resolveDatabase(
  config: Config,
  options: { command: "start" | "admin" },
): Promise<ResolvedDatabase> {
  if (config.DATABASE_URL) {
    return { url: config.DATABASE_URL, kind: "external", stop: async () => {} };
  }

  const running = findRunningCluster(config.dataDir);
  if (running && options.command === "start") {
    throw new CliError(
      [
        `An embedded PostgreSQL from an earlier run is still running on ${running.clusterDir} (pid ${running.pid}, port ${running.port}).`,
        "Another `npm start` may still be running with this data folder: stop it with Ctrl-C.",
        `If none is running, stop the leftover server with \`kill ${running.pid}\` and start again.`,
      ].join("\n"),
    );
  }
  if (running) {
    logger.info(
      { pid: running.pid, port: running.port },
      "using the embedded PostgreSQL that is already running",
    );
    return {
      url: runningClusterUrl(config.dataDir, running),
      kind: "running",
      stop: async () => {},
    };
  }

  const embedded = await startEmbeddedPostgres({
    dataDir: config.dataDir,
    port: config.VIGIL_EMBEDDED_PG_PORT,
  });
  detachEmbeddedExitHooks();
  return { url: embedded.url, kind: "embedded", stop: embedded.stop };
}

/**
 * Removes the signal listeners that the embedded-postgres package adds
 * (through async-exit-hook). They stop PostgreSQL and exit the process on
 * SIGINT or SIGTERM, before the web server and the worker have stopped,
 * whereas the CLI stops everything itself, in order. Listeners hidden from
 * process.listeners() (tsx's signal relay) stay in place.
 */
export function detachEmbeddedExitHooks(): void {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    for (const listener of process.listeners(signal)) {
      process.removeListener(signal, listener);
    }
  }
}

/** Applies the SQL migrations and the job queue schema. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const applied = await migrate(url);
  await installQueueSchema(url);
  return applied;
}
