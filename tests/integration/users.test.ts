import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "users-test-secret-0123456789abcdef0123";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import * as usersRoute from "@/app/api/v1/users/route";
import { createApiToken } from "@/lib/auth/api-token";
import { verifyPassword } from "@/lib/auth/password";
import { closeDb, getPrisma } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// `vigil create-user` run as a child process against the test database, and
// GET /api/v1/users through its route handler with sessions and tokens.

const require = createRequire(import.meta.url);
const TSX_CLI = require.resolve("tsx/cli");

type CliResult = { code: number; stdout: string; stderr: string };
type Json = Record<string, any>;

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSX_CLI, "scripts/vigil.ts", ...args],
      {
        env: { ...process.env, LOG_LEVEL: "warn", VIGIL_ADMIN_PASSWORD: undefined },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function getUsers(auth: { token?: string; userId?: number }): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = {};
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.userId !== undefined) {
    const jwt = await encode({
      token: { userId: auth.userId, sub: String(auth.userId) },
      secret: SESSION_SECRET,
    });
    headers.cookie = `next-auth.session-token=${jwt}`;
  }
  const response = await usersRoute.GET(new Request("http://127.0.0.1/api/v1/users", { headers }));
  return { status: response.status, json: (await response.json()) as Json };
}

let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), "vigil-users-"));
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
  await closeDb();
});

describe("vigil create-user", () => {
  it("creates a responder with a generated password", async () => {
    const result = await runCli(["create-user", "--email", "Ana@Example.test", "--name", "Ana Pérez", "--role", "responder"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    const password = lines.at(-1)!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);

    const user = await getPrisma().user.findUniqueOrThrow({ where: { email: "ana@example.test" } });
    expect(lines[0]).toBe(`Created responder ana@example.test (user id ${user.id}).`);
    expect(user.name).toBe("Ana Pérez");
    expect(user.role).toBe("responder");
    expect(user.passwordHash).not.toContain(password);
    expect(await verifyPassword(password, user.passwordHash)).toBe(true);
  });

  it("reads the password from --password-file", async () => {
    const file = path.join(folder, "viewer-password");
    await writeFile(file, "correct horse battery\n", { mode: 0o600 });
    const result = await runCli([
      "create-user", "--email", "vera@example.test", "--name", "Vera", "--role", "viewer", "--password-file", file,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("correct horse battery");
    expect(result.stdout).not.toContain("Password");
    const user = await getPrisma().user.findUniqueOrThrow({ where: { email: "vera@example.test" } });
    expect(user.role).toBe("viewer");
    expect(await verifyPassword("correct horse battery", user.passwordHash)).toBe(true);
  });

  it("rejects bad input and writes nothing", async () => {
    const short = path.join(folder, "short-password");
    await writeFile(short, "short\n");
    const cases: Array<{ args: string[]; message: string }> = [
      { args: ["--email", "a@example.test", "--name", "A", "--role", "owner"], message: '--role must be admin, manager, responder or viewer, got "owner".' },
      { args: ["--email", "not-an-email", "--name", "A", "--role", "viewer"], message: '--email: "not-an-email" is not a valid email address.' },
      { args: ["--email", "a@example.test", "--name", "  ", "--role", "viewer"], message: "--name: must be 1 to 200 characters" },
      { args: ["--email", "a@example.test", "--role", "viewer"], message: "create-user needs --email, --name and --role." },
      { args: ["--email", "a@example.test", "--name", "A", "--role", "viewer", "--password-file", short], message: "--password-file: the password must be at least 12 characters." },
      { args: ["--email", "a@example.test", "--name", "A", "--role", "viewer", "--password-file", path.join(folder, "missing")], message: "--password-file: cannot read" },
    ];
    for (const { args, message } of cases) {
      const result = await runCli(["create-user", ...args]);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr, args.join(" ")).toContain(message);
    }
    expect(await getPrisma().user.count()).toBe(0);
  });

  it("rejects an existing email unchanged", async () => {
    const first = await runCli(["create-user", "--email", "bo@example.test", "--name", "Bo", "--role", "admin"]);
    expect(first.code).toBe(0);
    const before = await getPrisma().user.findUniqueOrThrow({ where: { email: "bo@example.test" } });

    const second = await runCli(["create-user", "--email", "BO@example.test", "--name", "Bo 2", "--role", "viewer"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("a user with email bo@example.test exists already");
    const after = await getPrisma().user.findUniqueOrThrow({ where: { email: "bo@example.test" } });
    expect(after).toEqual(before);
  });
});

describe("GET /api/v1/users", () => {
  let admin: { id: number };
  let viewer: { id: number };

  beforeEach(async () => {
    const prisma = getPrisma();
    admin = await prisma.user.create({ data: { email: "bo@example.test", name: "Bo Lind", passwordHash: "-", role: "admin" } });
    viewer = await prisma.user.create({ data: { email: "vera@example.test", name: "Vera Viewer", passwordHash: "-", role: "viewer" } });
    await prisma.user.create({ data: { email: "ana@example.test", name: "Ana Pérez", passwordHash: "-", role: "responder" } });
  });

  it("shows emails to an admin session", async () => {
    const { status, json } = await getUsers({ userId: admin.id });
    expect(status).toBe(200);
    expect(json.users.map((user: Json) => user.name)).toEqual(["Ana Pérez", "Bo Lind", "Vera Viewer"]);
    expect(json.users[1]).toEqual({ id: admin.id, name: "Bo Lind", role: "admin", email: "bo@example.test" });
  });

  it("hides emails from a viewer session", async () => {
    const { status, json } = await getUsers({ userId: viewer.id });
    expect(status).toBe(200);
    expect(json.users).toHaveLength(3);
    expect(json.users[2]).toEqual({ id: viewer.id, name: "Vera Viewer", role: "viewer" });
    for (const user of json.users) expect(user).not.toHaveProperty("email");
  });

  it("shows emails to an unbound admin token only", async () => {
    const unbound = (await createApiToken({ name: "admin", scope: "admin" })).token;
    const service = await getPrisma().service.create({ data: { slug: "checkout", name: "Checkout" } });
    const bound = (await createApiToken({ name: "bound", scope: "admin", serviceId: service.id })).token;

    const full = await getUsers({ token: unbound });
    expect(full.status).toBe(200);
    expect(full.json.users[0].email).toBe("ana@example.test");

    const limited = await getUsers({ token: bound });
    expect(limited.status).toBe(200);
    expect(limited.json.users).toHaveLength(3);
    expect(limited.json.users[0]).not.toHaveProperty("email");
  });

  it("rejects ingest tokens and anonymous requests", async () => {
    const ingest = (await createApiToken({ name: "ingest", scope: "ingest" })).token;
    const forbidden = await getUsers({ token: ingest });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.code).toBe("insufficient_scope");

    const anonymous = await getUsers({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).not.toHaveProperty("users");
  });
});
