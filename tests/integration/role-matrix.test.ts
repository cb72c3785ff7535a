import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, and the GitHub
// webhook checks signatures with its secret; the config reads both once, so
// they are set before any Vigil module loads.
const { SESSION_SECRET, GITHUB_SECRET } = vi.hoisted(() => {
  const GITHUB_SECRET = "role-matrix-github-secret";
  const secret = "role-matrix-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  process.env.VIGIL_GITHUB_WEBHOOK_SECRET = GITHUB_SECRET;
  return { SESSION_SECRET: secret, GITHUB_SECRET };
});

import { createApiToken } from "@/lib/auth/api-token";
import { roleAllows, ROLES } from "@/lib/auth/roles";
import { closeDb, getPrisma } from "@/lib/db";
import type { Role, TokenScope } from "@/lib/generated/prisma/enums";
import { truncateAll } from "@/tests/support/database";

// Walks every /api/v1 route and method, found on the file system, with
// every kind of caller: no credentials, a session of each role, an ingest
// token and an admin token. ACCESS below says what each route needs; a
// route missing from it, or an entry without a route, fails the test, so a
// new route cannot skip its role check.

const API_ROOT = path.resolve(import.meta.dirname, "../../app/api/v1");
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Who may call a route: session roles and token scope, or a reason it is public. */
type Access =
  | {
      /** Lowest session role, a list of roles, or null when sessions get 401. */
      session: Role | readonly Role[] | null;
      /** Lowest token scope (admin tokens pass ingest checks), or null. */
      token: TokenScope | null;
    }
  | { public: string };

const reader = { session: "viewer", token: "ingest" } as const;
const adminReader = { session: "viewer", token: "admin" } as const;
const responder = { session: "responder", token: "admin" } as const;
const admin = { session: "admin", token: "admin" } as const;
const ingest = { session: null, token: "ingest" } as const;
const reportExport = { session: ["responder", "manager", "admin"], token: "admin" } as const;
const reportSchedule = { session: ["manager", "admin"], token: "admin" } as const;

const ACCESS: Record<string, Access> = {
  "POST /api/v1/alerts/alertmanager": ingest,
  "POST /api/v1/alerts/grafana": ingest,
  "POST /api/v1/deployments": ingest,
  "POST /api/v1/metrics": ingest,
  "POST /api/v1/otlp/v1/metrics": ingest,
  "POST /api/v1/prometheus/push/[...grouping]": ingest,
  "PUT /api/v1/prometheus/push/[...grouping]": ingest,
  "POST /api/v1/prometheus/write": ingest,
  "GET /api/v1/services": ingest,
  "GET /api/v1/services/[slug]": ingest,
  "PUT /api/v1/services/[slug]": { session: null, token: "admin" },
  "POST /api/v1/webhooks/github": {
    public: "GitHub signs each delivery with X-Hub-Signature-256 (HMAC of the shared secret) instead of sending a token",
  },

  "GET /api/v1/incidents": reader,
  "GET /api/v1/incidents/[id]": reader,
  "PATCH /api/v1/incidents/[id]": responder,
  "POST /api/v1/incidents/[id]/acknowledge": responder,
  "POST /api/v1/incidents/[id]/resolve": responder,
  "POST /api/v1/incidents/[id]/reopen": responder,
  "POST /api/v1/incidents/[id]/notes": responder,
  "GET /api/v1/incidents/[id]/feedback": reader,
  "POST /api/v1/incidents/[id]/feedback": responder,
  "GET /api/v1/incidents/[id]/postmortem": reader,
  "PUT /api/v1/incidents/[id]/postmortem": responder,
  "GET /api/v1/incidents/[id]/postmortem.md": reader,
  "GET /api/v1/incidents/[id]/runbook-steps": reader,
  "POST /api/v1/incidents/[id]/runbook-steps": responder,
  "GET /api/v1/incidents/[id]/runbook-steps/[runId]": reader,
  "GET /api/v1/incidents/[id]/runbooks/[runbookId]/feedback": reader,
  "POST /api/v1/incidents/[id]/runbooks/[runbookId]/feedback": responder,

  "GET /api/v1/series/[id]/models": reader,
  "POST /api/v1/series/[id]/retrain": responder,
  "POST /api/v1/series/[id]/models/[version]/activate": admin,

  "GET /api/v1/runbooks": reader,
  "POST /api/v1/runbooks": admin,
  "GET /api/v1/runbooks/[slug]": reader,
  "PUT /api/v1/runbooks/[slug]": admin,
  "DELETE /api/v1/runbooks/[slug]": admin,
  "POST /api/v1/runbooks/[slug]/restore": admin,
  "POST /api/v1/runbooks/[slug]/rollback": admin,
  "GET /api/v1/runbook-allowlist": admin,
  "POST /api/v1/runbook-allowlist": admin,
  "DELETE /api/v1/runbook-allowlist/[id]": admin,

  "GET /api/v1/notification-channels": admin,
  "POST /api/v1/notification-channels": admin,
  "GET /api/v1/notification-channels/[id]": admin,
  "PATCH /api/v1/notification-channels/[id]": admin,
  "DELETE /api/v1/notification-channels/[id]": admin,
  "POST /api/v1/notification-channels/[id]/test": admin,
  "GET /api/v1/routing-rules": admin,
  "POST /api/v1/routing-rules": admin,
  "DELETE /api/v1/routing-rules/[id]": admin,

  // On-call data names people and spans services: any signed-in user reads
  // it, but only unbound admin tokens do.
  "GET /api/v1/oncall": adminReader,
  "GET /api/v1/oncall/settings": adminReader,
  "PUT /api/v1/oncall/settings": admin,
  "GET /api/v1/schedules": adminReader,
  "POST /api/v1/schedules": admin,
  "GET /api/v1/schedules/[id]": adminReader,
  "PATCH /api/v1/schedules/[id]": admin,
  "DELETE /api/v1/schedules/[id]": admin,
  "GET /api/v1/schedules/[id]/overrides": adminReader,
  "POST /api/v1/schedules/[id]/overrides": admin,
  "DELETE /api/v1/schedules/[id]/overrides/[overrideId]": admin,
  "GET /api/v1/escalation-policies": adminReader,
  "POST /api/v1/escalation-policies": admin,
  "GET /api/v1/escalation-policies/[id]": adminReader,
  "PUT /api/v1/escalation-policies/[id]": admin,
  "DELETE /api/v1/escalation-policies/[id]": admin,
  "GET /api/v1/silences": adminReader,
  "POST /api/v1/silences": admin,
  "GET /api/v1/silences/[id]": adminReader,
  "POST /api/v1/silences/[id]/end": admin,
  "GET /api/v1/maintenance-windows": adminReader,
  "POST /api/v1/maintenance-windows": admin,
  "GET /api/v1/maintenance-windows/[id]": adminReader,
  "POST /api/v1/maintenance-windows/[id]/end": admin,

  "GET /api/v1/slos": reader,
  "POST /api/v1/slos": admin,
  "GET /api/v1/slos/[id]": reader,
  "PATCH /api/v1/slos/[id]": admin,
  "DELETE /api/v1/slos/[id]": admin,

  "GET /api/v1/users": adminReader,

  "GET /api/v1/teams": reader,
  "POST /api/v1/teams": admin,
  "GET /api/v1/teams/[slug]": reader,
  "PATCH /api/v1/teams/[slug]": admin,
  "DELETE /api/v1/teams/[slug]": admin,

  "GET /api/v1/reports/reliability.csv": reportExport,
  "GET /api/v1/reports/reliability.pdf": reportExport,
  "GET /api/v1/reports/incidents.csv": reportExport,
  "GET /api/v1/report-schedules": reportSchedule,
  "POST /api/v1/report-schedules": reportSchedule,
  "GET /api/v1/report-schedules/[id]": reportSchedule,
  "PATCH /api/v1/report-schedules/[id]": reportSchedule,
  "DELETE /api/v1/report-schedules/[id]": reportSchedule,
  "POST /api/v1/report-schedules/[id]/send": reportSchedule,
};

type Handler = (
  request: Request,
  context?: { params?: Promise<Record<string, string | string[]>> },
) => Promise<Response>;

type RouteMethod = {
  key: string;
  method: string;
  /** Path pattern with Next.js segments, such as /api/v1/incidents/[id]. */
  pattern: string;
  handler: Handler;
};

async function findRouteFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await findRouteFiles(full)));
    else if (entry.name === "route.ts") found.push(full);
  }
  return found.sort();
}

async function loadRoutes(): Promise<RouteMethod[]> {
  const routes: RouteMethod[] = [];
  for (const file of await findRouteFiles(API_ROOT)) {
    const relative = path.relative(API_ROOT, path.dirname(file)).split(path.sep).join("/");
    const pattern = `/api/v1/${relative}`;
    const module = (await import(file)) as Record<string, unknown>;
    for (const method of HTTP_METHODS) {
      if (typeof module[method] !== "function") continue;
      routes.push({ key: `${method} ${pattern}`, method, pattern, handler: module[method] as Handler });
    }
  }
  return routes;
}

/** Fills the path's segments with ids and slugs that exist nowhere. */
function concrete(pattern: string): { url: string; params: Record<string, string | string[]> } {
  const params: Record<string, string | string[]> = {};
  const pathname = pattern.replace(/\[(\.\.\.)?([A-Za-z]+)\]/g, (_, rest: string | undefined, name: string) => {
    if (rest) {
      params[name] = ["job", "role-matrix"];
      return "job/role-matrix";
    }
    const value = name === "slug" ? "no-such-slug" : "999999";
    params[name] = value;
    return value;
  });
  return { url: `http://127.0.0.1${pathname}`, params };
}

type Caller = { name: string; headers: Record<string, string>; role?: Role; scope?: TokenScope };

async function call(route: RouteMethod, caller: Caller): Promise<number> {
  const { url, params } = concrete(route.pattern);
  const hasBody = route.method !== "GET" && route.method !== "HEAD";
  const response = await route.handler(
    new Request(url, {
      method: route.method,
      headers: { ...caller.headers, ...(hasBody ? { "content-type": "application/json" } : {}) },
      body: hasBody ? "{}" : undefined,
    }),
    { params: Promise.resolve(params) },
  );
  await response.arrayBuffer();
  return response.status;
}

/** Returns the status a caller must get: 401, 403, or "allowed" for any other. */
function expected(access: Access, caller: Caller): 401 | 403 | "allowed" {
  if ("public" in access) return "allowed";
  if (caller.role) {
    if (access.session === null) return 401;
    const allowed =
      typeof access.session === "string"
        ? roleAllows(caller.role, access.session)
        : access.session.includes(caller.role);
    return allowed ? "allowed" : 403;
  }
  if (caller.scope) {
    if (access.token === null) return 403;
    return caller.scope === "admin" || access.token === "ingest" ? "allowed" : 403;
  }
  return 401;
}

let routes: RouteMethod[];
const callers: Caller[] = [{ name: "no credentials", headers: {} }];

beforeAll(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  for (const role of ROLES) {
    const user = await getPrisma().user.create({
      data: {
        email: `${role}@role-matrix.test`,
        name: `Matrix ${role}`,
        role,
        passwordHash: "not-a-password-hash",
      },
    });
    const jwt = await encode({ token: { userId: user.id, sub: String(user.id) }, secret: SESSION_SECRET });
    callers.push({ name: `${role} session`, role, headers: { cookie: `next-auth.session-token=${jwt}` } });
  }
  for (const scope of ["ingest", "admin"] as const) {
    const { token } = await createApiToken({ name: `matrix ${scope}`, scope });
    callers.push({ name: `${scope} token`, scope, headers: { authorization: `Bearer ${token}` } });
  }
  routes = await loadRoutes();
});

afterAll(async () => {
  await closeDb();
});

describe("route and role matrix", () => {
  it("access table covers every route", () => {
    const found = routes.map((route) => route.key).sort();
    expect(found.length).toBeGreaterThan(50);
    expect(found.filter((key) => !(key in ACCESS))).toEqual([]);
    expect(Object.keys(ACCESS).filter((key) => !found.includes(key))).toEqual([]);
  });

  it("every caller gets the table's status", async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const route of routes) {
      const access = ACCESS[route.key];
      // Public routes check their own signatures, tested below.
      if (!access || "public" in access) continue;
      for (const caller of callers) {
        const want = expected(access, caller);
        const status = await call(route, caller);
        checked += 1;
        const ok =
          want === "allowed" ? status !== 401 && status !== 403 && status < 500 : status === want;
        if (!ok) wrong.push(`${route.key} as ${caller.name}: got ${status}, expected ${want}`);
      }
    }
    expect(wrong).toEqual([]);
    const publicCount = routes.filter((route) => "public" in (ACCESS[route.key] ?? {})).length;
    expect(checked).toBe((routes.length - publicCount) * callers.length);
  });

  it("GitHub webhook needs its signature", async () => {
    const route = routes.find((candidate) => candidate.key === "POST /api/v1/webhooks/github")!;
    for (const caller of callers) {
      expect(await call(route, caller), caller.name).toBe(401);
    }
    const signature = createHmac("sha256", GITHUB_SECRET).update("{}").digest("hex");
    const signed = await call(route, {
      name: "GitHub",
      headers: { "x-hub-signature-256": `sha256=${signature}`, "x-github-event": "ping" },
    });
    expect([401, 403]).not.toContain(signed);
    expect(signed).toBeLessThan(500);
  });
});

describe("manager role", () => {
  it("create-user adds a listed manager", async () => {
    const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [tsxCli, "scripts/vigil.ts", "create-user", "--email", "Mona@Example.test", "--name", "Mona", "--role", "manager"],
        { env: { ...process.env, LOG_LEVEL: "warn", VIGIL_ADMIN_PASSWORD: undefined }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const user = await getPrisma().user.findUniqueOrThrow({ where: { email: "mona@example.test" } });
    expect(user.role).toBe("manager");
    expect(result.stdout).toContain(`Created manager mona@example.test (user id ${user.id}).`);

    const users = routes.find((route) => route.key === "GET /api/v1/users")!;
    const adminToken = callers.find((caller) => caller.name === "admin token")!;
    const response = await users.handler(
      new Request("http://127.0.0.1/api/v1/users", { headers: adminToken.headers }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { users: { id: number; role: string; email?: string }[] };
    expect(body.users.find((listed) => listed.id === user.id)).toMatchObject({
      role: "manager",
      email: "mona@example.test",
    });
  });

  it("create-user rejects an unknown role", async () => {
    const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
    const stderr = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [tsxCli, "scripts/vigil.ts", "create-user", "--email", "x@example.test", "--name", "X", "--role", "owner"],
        { env: { ...process.env, LOG_LEVEL: "warn" }, timeout: 60_000 },
        (_error, _stdout, stderr) => resolve(stderr),
      );
    });
    expect(stderr).toContain('--role must be admin, manager, responder or viewer, got "owner"');
    expect(await getPrisma().user.count({ where: { email: "x@example.test" } })).toBe(0);
  });
});
