import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { parseConfig } from "@/lib/config";
import { startEmbeddedPostgres } from "@/lib/embedded-postgres";
import { findRunningCluster, resolveDatabase } from "@/scripts/cli/database";

// The embedded PostgreSQL path of the CLI: a command without DATABASE_URL
// starts the cluster in <dataDir>/pg, and a cluster that is still running
// there is reused by one-shot commands and rejected by `start`.

const require = createRequire(import.meta.url);
const TSX_CLI = require.resolve("tsx/cli");
// Ports reserved for these tests.
const CLI_PORT = 5561;
const RUNNING_PORT = 5562;

let dataDir: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "ops-start-embedded-"));
  // mkdtemp creates the folder with mode 0700. As root, embedded-postgres
  // runs initdb as the postgres user, which must be able to enter it.
  await chmod(dataDir, 0o755);
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
  await rm(dataDir, { recursive: true, force: true });
});

function runCli(args: string[], env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: "warn",
    ...env,
  };
  delete childEnv.DATABASE_URL;
  return new Promise<{ code: number; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        [TSX_CLI, "scripts/vigil.ts", ...args],
        { env: childEnv, timeout: 90_000 },
        (error, stdout, stderr) => {
          resolve({
            code: error ? Number((error as { code?: number }).code ?? 1) : 0,
            stdout,
            stderr,
          });
        },
      );
    },
  );
}

/** Starts a long-running process whose command line names postgres. */
function fakePostgres(): ChildProcess {
  const child = spawn("bash", ["-c", "exec -a postgres-test sleep 60"], {
    stdio: "ignore",
  });
  cleanups.push(async () => child.kill("SIGKILL"));
  return child;
}

async function writePidFile(pid: number, port: number) {
  await mkdir(path.join(dataDir, "pg"), { recursive: true });
  const lines = [
    String(pid),
    path.join(dataDir, "pg"),
    "0",
    String(port),
    "",
    "",
  ];
  await writeFile(path.join(dataDir, "pg/postmaster.pid"), lines.join("\n"));
}

describe("findRunningCluster", () => {
  it("returns undefined without a pid file", () => {
    expect(findRunningCluster(dataDir)).toBeUndefined();
  });

  it("ignores a pid that no longer exists", async () => {
    const child = spawn("true");
    await new Promise((resolve) => child.once("exit", resolve));
    await writePidFile(child.pid!, 5599);
    expect(findRunningCluster(dataDir)).toBeUndefined();
  });

  it("ignores a pid reused by another program", async () => {
    await writePidFile(process.pid, 5599);
    expect(findRunningCluster(dataDir)).toBeUndefined();
  });

  it("finds a live postgres process", async () => {
    const child = fakePostgres();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writePidFile(child.pid!, 5599);
    expect(findRunningCluster(dataDir)).toEqual({
      pid: child.pid,
      port: 5599,
      clusterDir: path.join(dataDir, "pg"),
    });
  });
});

describe("resolveDatabase with a running cluster", () => {
  it("rejects start and reuses it for commands", async () => {
    const child = fakePostgres();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writePidFile(child.pid!, 5599);
    await writeFile(path.join(dataDir, "pg-password"), "p@ss word\n");
    const environment: Record<string, string> = { VIGIL_DATA_DIR: dataDir };
    const config = parseConfig(environment as NodeJS.ProcessEnv);

    await expect(resolveDatabase(config, { command: "start" })).rejects.toThrow(
      `An embedded PostgreSQL from an earlier run is still running on ${path.join(dataDir, "pg")} (pid ${child.pid}, port 5599).`,
    );
    const database = await resolveDatabase(config, { command: "admin" });
    expect(database.kind).toBe("running");
    expect(database.url).toBe(
      "postgresql://postgres:p%40ss%20word@127.0.0.1:5599/vigil",
    );
  });
});

describe("CLI on the embedded PostgreSQL", () => {
  it("starts, migrates and stops the cluster", async () => {
    const env = {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_EMBEDDED_PG_PORT: String(CLI_PORT),
    };
    const first = await runCli(["migrate"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Applied \d+ migration\(s\)/);
    expect(findRunningCluster(dataDir)).toBeUndefined();

    // A second run finds the same cluster and its data.
    const second = await runCli(["migrate"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("No pending migrations.");
  });

  it("uses a cluster that is already running", async () => {
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port: RUNNING_PORT,
    });
    cleanups.push(embedded.stop);

    const result = await runCli(["create-token", "--name", "while running"], {
      VIGIL_DATA_DIR: dataDir,
      VIGIL_EMBEDDED_PG_PORT: String(RUNNING_PORT + 1),
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const client = new pg.Client({ connectionString: embedded.url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT name FROM api_token");
      expect(rows).toEqual([{ name: "while running" }]);
    } finally {
      await client.end();
    }
    expect(findRunningCluster(dataDir)?.port).toBe(RUNNING_PORT);
  });
});
