import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";

import pg from "pg";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { authenticateBearer } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { verifyPassword } from "@/lib/auth/password";
import { truncateAll } from "@/tests/support/database";

// Runs `tsx scripts/vigil.ts <command>` as a child process against the test
// database and checks what the commands changed.

const require = createRequire(import.meta.url);
const TSX_CLI = require.resolve("tsx/cli");

type CliResult = { code: number; stdout: string; stderr: string };

function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX_CLI, "scripts/vigil.ts", ...args],
      {
        env: {
          ...process.env,
          DATABASE_URL: process.env.DATABASE_URL,
          LOG_LEVEL: "warn",
          ...env,
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await closeDb();
});

describe("vigil migrate", () => {
  const name = `vigil_test_migrate_${Date.now()}_${process.pid}`;
  const adminUrl = withDatabase(process.env.DATABASE_URL!, "postgres");

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it("migrates an empty database", async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = withDatabase(process.env.DATABASE_URL!, name);

    const first = await runCli(["migrate"], { DATABASE_URL: url });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const folders = readdirSync("prisma/migrations").sort();
    expect(first.stdout).toContain(`Applied ${folders.length} migration(s)`);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: migrations } = await client.query<{
        migration_name: string;
      }>(
        `SELECT migration_name FROM "_prisma_migrations"
         WHERE finished_at IS NOT NULL ORDER BY migration_name`,
      );
      expect(migrations.map((row) => row.migration_name)).toEqual(folders);
      const { rows: tables } = await client.query(
        `SELECT 1 FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name IN ('service', 'data_point', 'runbook')`,
      );
      expect(tables).toHaveLength(3);
      const { rows: queue } = await client.query(
        "SELECT 1 FROM pg_namespace WHERE nspname = 'graphile_worker'",
      );
      expect(queue).toHaveLength(1);
      const { rows: runbooks } = await client.query("SELECT slug FROM runbook");
      expect(runbooks.length).toBeGreaterThanOrEqual(6);
    } finally {
      await client.end();
    }

    const second = await runCli(["migrate"], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("No pending migrations.");
    expect(second.stdout).toMatch(/Runbook library: 0 created, \d+ updated\./);
  });
});

describe("vigil create-token", () => {
  it("prints a token that authenticates", async () => {
    const result = await runCli(["create-token", "--name", "ci pipeline"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const token = result.stdout
      .split("\n")
      .find((line) => line.startsWith("vgl_"));
    expect(token).toBeDefined();

    const { rows } = await getPool().query<{
      name: string;
      scope: string;
      token_hash: string;
      prefix: string;
      service_id: number | null;
    }>("SELECT name, scope, token_hash, prefix, service_id FROM api_token");
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.name).toBe("ci pipeline");
    expect(row.scope).toBe("ingest");
    expect(row.service_id).toBeNull();
    expect(row.token_hash).toBe(
      createHash("sha256").update(token!).digest("hex"),
    );
    expect(token!.startsWith(row.prefix)).toBe(true);

    const request = new Request("http://127.0.0.1/api/v1/metrics", {
      headers: { authorization: `Bearer ${token}` },
    });
    const authenticated = await authenticateBearer(request);
    expect(authenticated.name).toBe("ci pipeline");
  });

  it("binds a token to a service", async () => {
    const { rows: services } = await getPool().query<{ id: number }>(
      "INSERT INTO service (slug, name) VALUES ('checkout-api', 'Checkout') RETURNING id",
    );
    const result = await runCli([
      "create-token",
      "--name",
      "checkout deploys",
      "--scope",
      "admin",
      "--service",
      "checkout-api",
    ]);
    expect(result.code).toBe(0);
    const { rows } = await getPool().query<{
      scope: string;
      service_id: number;
    }>("SELECT scope, service_id FROM api_token");
    expect(rows).toEqual([{ scope: "admin", service_id: services[0]!.id }]);
  });

  it("rejects an unknown service", async () => {
    const result = await runCli([
      "create-token",
      "--name",
      "x",
      "--service",
      "no-such-service",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--service: no service with slug "no-such-service"',
    );
    const { rows } = await getPool().query("SELECT id FROM api_token");
    expect(rows).toHaveLength(0);
  });

  it("rejects an unknown scope", async () => {
    const result = await runCli([
      "create-token",
      "--name",
      "x",
      "--scope",
      "root",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--scope must be ingest or admin, got "root"',
    );
  });

  it("requires --name", async () => {
    const result = await runCli(["create-token"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("create-token needs --name.");
  });
});

describe("vigil create-admin", () => {
  it("creates an admin from VIGIL_ADMIN_PASSWORD", async () => {
    const password = "correct horse battery";
    const result = await runCli(
      ["create-admin", "--email", "Ops@Example.com", "--name", "Ops Lead"],
      { VIGIL_ADMIN_PASSWORD: password },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Created admin ops@example.com.");
    expect(result.stdout).not.toContain(password);

    const { rows } = await getPool().query<{
      name: string;
      role: string;
      password_hash: string;
    }>(
      "SELECT name, role, password_hash FROM user_account WHERE email = 'ops@example.com'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toBe("Ops Lead");
    expect(rows[0]!.role).toBe("admin");
    expect(await verifyPassword(password, rows[0]!.password_hash)).toBe(true);
  });

  it("fails without a password or terminal", async () => {
    const result = await runCli(["create-admin", "--email", "a@example.com"], {
      VIGIL_ADMIN_PASSWORD: undefined,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "No password given: set VIGIL_ADMIN_PASSWORD",
    );
  });
});

describe("vigil configuration errors", () => {
  it("names the invalid variable", async () => {
    const result = await runCli(["migrate"], { PORT: "not-a-port" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Invalid environment configuration");
    expect(result.stderr).toContain("PORT:");
  });

  it("rejects an unknown command", async () => {
    const result = await runCli(["frobnicate"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unknown command "frobnicate"');
  });

  it("rejects an unknown option", async () => {
    const result = await runCli(["migrate", "--force"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--force");
  });
});
