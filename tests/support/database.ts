import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import pg from "pg";

import { startEmbeddedPostgres } from "@/lib/embedded-postgres";
import { clearSeriesCache } from "@/lib/ingest/store";
import { migrate } from "@/lib/migrate";
import { installQueueSchema } from "@/lib/queue";

// A fresh, migrated database for one test run, on the first server found:
// DATABASE_URL's server, else PostgreSQL on 127.0.0.1:5432, else an embedded
// server in a temporary folder (also when VIGIL_TEST_EMBEDDED=1).

export type TestDatabase = { url: string; drop: () => Promise<void> };

const LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createTestDatabase(
  label: string,
): Promise<TestDatabase> {
  // VIGIL_TEST_DB_PREFIX keeps the databases of test runs that share a
  // server apart.
  const prefix = process.env.VIGIL_TEST_DB_PREFIX ?? "vigil_test";
  const name = `${prefix}_${label}_${Date.now()}_${process.pid}`;
  let adminUrl = process.env.VIGIL_TEST_SERVER_URL ?? process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let embeddedDir: string | undefined;

  const forceEmbedded = process.env.VIGIL_TEST_EMBEDDED === "1";
  if (forceEmbedded) adminUrl = undefined;
  if (!adminUrl && !forceEmbedded && (await canConnect("127.0.0.1", 5432))) {
    adminUrl = LOCAL_SERVER_URL;
  }
  if (!adminUrl) {
    embeddedDir = await mkdtemp(path.join(os.tmpdir(), "vigil-test-pg-"));
    // As root the server runs as a separate system user, which must be able
    // to enter the folder that mkdtemp created with mode 0700.
    await chmod(embeddedDir, 0o755);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const embedded = await startEmbeddedPostgres({
      dataDir: embeddedDir,
      port,
      database: "postgres",
    });
    adminUrl = embedded.url;
    stopEmbedded = embedded.stop;
  }

  const admin = new pg.Client({ connectionString: withDatabase(adminUrl, "postgres") });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();

  const url = withDatabase(adminUrl, name);
  await migrate(url);
  await installQueueSchema(url);

  return {
    url,
    drop: async () => {
      const client = new pg.Client({
        connectionString: withDatabase(adminUrl, "postgres"),
      });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
      await stopEmbedded?.();
      if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
    },
  };
}

/** Empties every Vigil table; integration tests call it in beforeEach. */
export async function truncateAll(url: string): Promise<void> {
  // RESTART IDENTITY reuses series ids, so ids cached by ingest go stale.
  clearSeriesCache();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables
       WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    if (rows.length > 0) {
      const tables = rows.map((row) => `"${row.tablename}"`).join(", ");
      await client.query(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`);
    }
    await client.query("DELETE FROM graphile_worker._private_jobs");
  } finally {
    await client.end();
  }
}
