import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "runbook-allowlist-test-secret-0123456789ab";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { DELETE as deleteHostRoute } from "@/app/api/v1/runbook-allowlist/[id]/route";
import { GET as listHostsRoute, POST as addHostRoute } from "@/app/api/v1/runbook-allowlist/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { findAllowedEntry, isMetadataAddress, normalizeHost } from "@/lib/runbooks/allowlist";
import { truncateAll } from "@/tests/support/database";
import {
  callRoute,
  sessionCookieFor,
  type Auth,
  type Json,
  type RouteHandler,
} from "@/tests/support/route-calls";

// The runbook allowlist API against the real database: admin-only access,
// host validation with errors that name the field, normalisation, and that
// a rejected request changes nothing.

const BASE = "http://127.0.0.1:3262/api/v1";
const users: Record<"admin" | "responder" | "viewer", { id: number; name: string }> = {} as never;
let adminToken: string;
let ingestToken: string;
let boundAdminToken: string;

function call(
  handler: RouteHandler,
  method: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
) {
  return callRoute(handler, method, `${BASE}/runbook-allowlist`, auth, body, params);
}

function sessionCookie(user: { id: number; name: string }): Promise<string> {
  return sessionCookieFor(user, SESSION_SECRET);
}

async function countHosts(): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>(
    "SELECT count(*)::int AS count FROM runbook_allowed_host",
  );
  return rows[0]!.count;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const service = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout') RETURNING id",
  );
  for (const role of ["admin", "responder", "viewer"] as const) {
    const { rows } = await getPool().query<{ id: number; name: string }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, '-', $3) RETURNING id, name`,
      [`${role}@example.test`, `Test ${role}`, role],
    );
    users[role] = rows[0]!;
  }
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  boundAdminToken = (
    await createApiToken({ name: "bound", scope: "admin", serviceId: service.rows[0]!.id })
  ).token;
});

afterAll(async () => {
  await closeDb();
});

describe("runbook allowlist API", () => {
  it("adds, lists and removes hosts", async () => {
    const admin = { cookie: await sessionCookie(users.admin) };
    const added = await call(addHostRoute, "POST", admin, {
      host: "Hooks.Example.COM.",
      port: 8443,
      note: "  remediation service  ",
    });
    expect(added.status).toBe(201);
    expect(added.json.host).toMatchObject({
      host: "hooks.example.com",
      port: 8443,
      note: "remediation service",
      addedBy: { type: "user", id: users.admin.id, name: "Test admin" },
    });

    const byToken = await call(addHostRoute, "POST", { token: adminToken }, { host: "[::1]" });
    expect(byToken.status).toBe(201);
    expect(byToken.json.host).toMatchObject({ host: "::1", port: null, note: "" });
    expect(byToken.json.host.addedBy).toMatchObject({ type: "token", name: "API token admin-bot" });

    const list = await call(listHostsRoute, "GET", { token: adminToken });
    expect(list.status).toBe(200);
    expect(list.json.hosts.map((entry: Json) => [entry.host, entry.port])).toEqual([
      ["::1", null],
      ["hooks.example.com", 8443],
    ]);

    const id = String(added.json.host.id);
    const removed = await call(deleteHostRoute, "DELETE", admin, undefined, { id });
    expect(removed.status).toBe(200);
    expect(removed.json.host.host).toBe("hooks.example.com");
    expect(await countHosts()).toBe(1);

    const again = await call(deleteHostRoute, "DELETE", admin, undefined, { id });
    expect(again.status).toBe(404);
    expect(again.json.error.field).toBe("id");
  });

  it("rejects a duplicate host and port", async () => {
    const first = await call(addHostRoute, "POST", { token: adminToken }, { host: "127.0.0.1", port: 9000 });
    expect(first.status).toBe(201);
    const second = await call(addHostRoute, "POST", { token: adminToken }, { host: "127.0.0.1", port: 9000 });
    expect(second.status).toBe(409);
    expect(second.json.error.message).toBe("127.0.0.1:9000 is already on the runbook allowlist");
    const anyPort = await call(addHostRoute, "POST", { token: adminToken }, { host: "127.0.0.1" });
    expect(anyPort.status).toBe(201);
    const anyPortAgain = await call(addHostRoute, "POST", { token: adminToken }, { host: "127.0.0.1", port: null });
    expect(anyPortAgain.status).toBe(409);
    expect(await countHosts()).toBe(2);
  });

  it("rejects invalid hosts naming the field", async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ host: "https://hooks.example.com" }, "host", "without a scheme"],
      [{ host: "hooks.example.com/restart" }, "host", "without a path"],
      [{ host: "hooks.example.com:8080" }, "host", "port field"],
      [{ host: "*.example.com" }, "host", "wildcards are not supported"],
      [{ host: "user@hooks.example.com" }, "host", "without a user name"],
      [{ host: "hooks example.com" }, "host", "spaces"],
      [{ host: "bad!host" }, "host", "must be a host name"],
      [{ host: "-leading.example.com" }, "host", "must be a host name"],
      [{ host: "" }, "host", "at least 1"],
      [{}, "host", "is required"],
      [{ host: "hooks.example.com", port: 0 }, "port", "at least 1"],
      [{ host: "hooks.example.com", port: 70000 }, "port", "at most 65535"],
      [{ host: "hooks.example.com", port: "80" }, "port", "must be"],
      [{ host: "hooks.example.com", note: "x".repeat(501) }, "note", "at most 500"],
      [{ host: "hooks.example.com", scheme: "https" }, "scheme", "not a known field"],
      [{ host: "hooks.example.com", note: "ops\u0000" }, "note", "contains the NUL character (U+0000) at position 3"],
      [{ host: "hooks.example.com", note: "ops \ud800" }, "note", "contains an unpaired UTF-16 surrogate (U+D800)"],
    ];
    for (const [body, field, message] of cases) {
      const response = await call(addHostRoute, "POST", { token: adminToken }, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.field, JSON.stringify(body)).toBe(field);
      expect(response.json.error.message, JSON.stringify(body)).toContain(message);
    }
    expect(await countHosts()).toBe(0);
  });

  it("rejects link-local and metadata hosts", async () => {
    const hosts = [
      "169.254.169.254",
      "169.254.0.1",
      "2852039166",
      "0xa9.0xfe.0xa9.0xfe",
      "0251.0376.0251.0376",
      "169.254.43518",
      "[fe80::1]",
      "fe80::1",
      "[febf::1]",
      "[::ffff:169.254.169.254]",
      "[::ffff:a9fe:a9fe]",
      "[64:ff9b::a9fe:a9fe]",
      "[64:ff9b::169.254.169.254]",
      "[::a9fe:a9fe]",
      "[::169.254.169.254]",
      "[fd00:ec2::254]",
      "100.100.100.200",
      "metadata.google.internal",
      "Metadata.Google.Internal.",
    ];
    for (const host of hosts) {
      const response = await call(addHostRoute, "POST", { token: adminToken }, { host, port: 80 });
      expect(response.status, host).toBe(400);
      expect(response.json.error.field, host).toBe("host");
      expect(response.json.error.message, host).toMatch(/link-local or cloud metadata|cloud metadata host name/);
    }
    expect(await countHosts()).toBe(0);

    const neighbours = ["169.253.255.255", "169.255.0.1", "[fec0::1]", "[64:ff9b::7f00:1]", "[2001:db8::a9fe:a9fe]"];
    for (const host of neighbours) {
      const response = await call(addHostRoute, "POST", { token: adminToken }, { host });
      expect(response.status, host).toBe(201);
    }
  });

  it("allows admins only", async () => {
    const body = { host: "hooks.example.com" };
    const cases: Array<[string, Auth, number]> = [
      ["responder session", { cookie: await sessionCookie(users.responder) }, 403],
      ["viewer session", { cookie: await sessionCookie(users.viewer) }, 403],
      ["ingest token", { token: ingestToken }, 403],
      ["admin token bound to a service", { token: boundAdminToken }, 403],
      ["no credentials", {}, 401],
      ["unknown token", { token: "vgl_not_a_real_token_value_000000000000" }, 401],
    ];
    for (const [name, auth, status] of cases) {
      expect((await call(addHostRoute, "POST", auth, body)).status, `POST ${name}`).toBe(status);
      expect((await call(listHostsRoute, "GET", auth)).status, `GET ${name}`).toBe(status);
      expect((await call(deleteHostRoute, "DELETE", auth, undefined, { id: "1" })).status, `DELETE ${name}`).toBe(status);
    }
    expect(await countHosts()).toBe(0);
  });

  it("rejects a session POST without JSON", async () => {
    const response = await addHostRoute(
      new Request(`${BASE}/runbook-allowlist`, {
        method: "POST",
        headers: { cookie: await sessionCookie(users.admin), "content-type": "text/plain" },
        body: JSON.stringify({ host: "hooks.example.com" }),
      }),
    );
    expect(response.status).toBe(415);
    expect(await countHosts()).toBe(0);
  });
});

describe("normalizeHost", () => {
  const cases: Array<[string, string | null]> = [
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["127.1", "127.0.0.1"],
    ["0x7f.0.0.1", "127.0.0.1"],
    ["[::FFFF:127.0.0.1]", "::ffff:7f00:1"],
    ["::1", "::1"],
    ["bücher.example", "xn--bcher-kva.example"],
    ["a_b.example", "a_b.example"],
    ["bad!host", null],
    ["", null],
  ];
  for (const [input, expected] of cases) {
    it(`normalises ${JSON.stringify(input)}`, () => {
      expect(normalizeHost(input)).toBe(expected);
    });
  }
});

describe("isMetadataAddress", () => {
  const cases: Array<[string, boolean]> = [
    ["169.254.169.254", true],
    ["169.254.0.0", true],
    ["169.253.255.255", false],
    ["fe80::1", true],
    ["febf:ffff::1", true],
    ["fec0::1", false],
    ["fd00:ec2::254", true],
    ["::ffff:169.254.169.254", true],
    ["64:ff9b::a9fe:a9fe", true],
    ["64:ff9b::169.254.1.1", true],
    ["::a9fe:a9fe", true],
    ["::169.254.169.254", true],
    ["64:ff9b::7f00:1", false],
    ["2001:db8::a9fe:a9fe", false],
    ["100.100.100.200", true],
    ["100.100.100.201", false],
    ["127.0.0.1", false],
    ["::1", false],
  ];
  for (const [address, metadata] of cases) {
    it(`${metadata ? "matches" : "passes"} ${address}`, () => {
      expect(isMetadataAddress(address)).toBe(metadata);
    });
  }
});

describe("findAllowedEntry", () => {
  const entries = [
    { host: "hooks.example.com", port: null },
    { host: "127.0.0.1", port: 9000 },
    { host: "::1", port: 443 },
  ];
  const cases: Array<[string, boolean]> = [
    ["https://hooks.example.com/restart", true],
    ["http://HOOKS.example.com:8080/x", true],
    ["https://hooks.example.com./x", true],
    ["https://other.example.com/x", false],
    ["http://127.0.0.1:9000/x", true],
    ["http://127.0.0.1/x", false],
    ["http://127.1:9000/x", true],
    ["https://[::1]/x", true],
    ["http://[::1]/x", false],
  ];
  for (const [url, listed] of cases) {
    it(`${listed ? "allows" : "rejects"} ${url}`, () => {
      expect(findAllowedEntry(entries, new URL(url)) !== undefined).toBe(listed);
    });
  }
});
