import { execFile } from "node:child_process";
import { createRequire } from "node:module";

import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "teams-api-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import {
  DELETE as deleteRoute,
  GET as getRoute,
  PATCH as patchRoute,
} from "@/app/api/v1/teams/[slug]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/v1/teams/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { countOpenIncidents, listIncidents } from "@/lib/incidents/queries";
import { getKpis } from "@/lib/kpi";
import { resolveDashboardFilter } from "@/lib/teams/filter";
import { deleteTeam as deleteTeamRow } from "@/lib/teams/store";
import { truncateAll } from "@/tests/support/database";
import {
  callRoute,
  sessionCookieFor,
  type Auth,
  type Json,
  type RouteHandler,
} from "@/tests/support/route-calls";

// The team API against the real database: create, rename, assign and
// delete, validation errors that name the field, 409 on a taken slug,
// access by role and scope, and that a rejected request writes nothing.

const BASE = "http://127.0.0.1:3260/api/v1";

let adminToken: string;
let ingestToken: string;
let boundAdminToken: string;
const cookies: Record<"admin" | "manager" | "responder" | "viewer", string> = {} as never;

function call(
  handler: RouteHandler,
  method: string,
  path: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  return callRoute(handler, method, `${BASE}${path}`, auth, body, params);
}

function createTeam(body: Json, auth: Auth = { token: adminToken }) {
  return call(createRoute, "POST", "/teams", auth, body);
}

function patchTeam(slug: string, body: Json, auth: Auth = { token: adminToken }) {
  return call(patchRoute, "PATCH", `/teams/${slug}`, auth, body, { slug });
}

async function serviceTeams(): Promise<Record<string, string | null>> {
  const { rows } = await getPool().query<{ slug: string; team: string | null }>(
    "SELECT s.slug, t.slug AS team FROM service s LEFT JOIN team t ON t.id = s.team_id ORDER BY s.slug",
  );
  return Object.fromEntries(rows.map((row) => [row.slug, row.team]));
}

async function teamCount(): Promise<number> {
  const { rows } = await getPool().query<{ count: number }>("SELECT count(*)::int AS count FROM team");
  return rows[0]!.count;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows: services } = await getPool().query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES
       ('checkout', 'Checkout'), ('orders', 'Orders'), ('search', 'Search')
     RETURNING id`,
  );
  for (const role of ["admin", "manager", "responder", "viewer"] as const) {
    const { rows } = await getPool().query<{ id: number; name: string }>(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, '-', $3) RETURNING id, name`,
      [`${role}@example.test`, `Test ${role}`, role],
    );
    cookies[role] = await sessionCookieFor(rows[0]!, SESSION_SECRET);
  }
  adminToken = (await createApiToken({ name: "admin-bot", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "exporter", scope: "ingest" })).token;
  boundAdminToken = (
    await createApiToken({ name: "bound", scope: "admin", serviceId: services[0]!.id })
  ).token;
});

afterAll(async () => {
  await closeDb();
});

describe("team CRUD", () => {
  it("creates a team with services", async () => {
    const created = await createTeam({
      slug: "payments",
      name: "Payments",
      description: "Checkout and orders",
      services: ["orders", "checkout"],
    });
    expect(created.status).toBe(201);
    expect(created.json.team).toMatchObject({
      slug: "payments",
      name: "Payments",
      description: "Checkout and orders",
      services: [
        { slug: "checkout", name: "Checkout" },
        { slug: "orders", name: "Orders" },
      ],
    });
    expect(await serviceTeams()).toEqual({ checkout: "payments", orders: "payments", search: null });

    const listed = await call(listRoute, "GET", "/teams", { cookie: cookies.viewer });
    expect(listed.status).toBe(200);
    expect(listed.json.teams.map((team: Json) => team.slug)).toEqual(["payments"]);

    const one = await call(getRoute, "GET", "/teams/payments", { token: ingestToken }, undefined, {
      slug: "payments",
    });
    expect(one.status).toBe(200);
    expect(one.json.team.services).toHaveLength(2);
  });

  it("renames and replaces services", async () => {
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout", "orders"] });
    const renamed = await patchTeam("payments", { name: "Payments team", description: null });
    expect(renamed.status).toBe(200);
    expect(renamed.json.team.name).toBe("Payments team");
    expect(renamed.json.team.description).toBeNull();
    expect(renamed.json.team.services).toHaveLength(2);

    const replaced = await patchTeam("payments", { services: ["search"] });
    expect(replaced.status).toBe(200);
    expect(replaced.json.team.services.map((service: Json) => service.slug)).toEqual(["search"]);
    expect(await serviceTeams()).toEqual({ checkout: null, orders: null, search: "payments" });
  });

  it("moves a service between teams", async () => {
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout", "orders"] });
    const created = await createTeam({ slug: "storefront", name: "Storefront", services: ["checkout"] });
    expect(created.status).toBe(201);
    expect(await serviceTeams()).toEqual({ checkout: "storefront", orders: "payments", search: null });
  });

  it("delete keeps the services", async () => {
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout", "orders"] });
    const deleted = await call(deleteRoute, "DELETE", "/teams/payments", { cookie: cookies.admin }, undefined, {
      slug: "payments",
    });
    expect(deleted.status).toBe(200);
    expect(deleted.json.releasedServices).toEqual(["checkout", "orders"]);
    expect(await teamCount()).toBe(0);
    expect(await serviceTeams()).toEqual({ checkout: null, orders: null, search: null });

    const again = await call(deleteRoute, "DELETE", "/teams/payments", { token: adminToken }, undefined, {
      slug: "payments",
    });
    expect(again.status).toBe(404);
    expect(again.json.error.field).toBe("slug");
  });
});

describe("concurrent team deletes", () => {
  it("only one delete succeeds", async () => {
    await createTeam({ slug: "race", name: "Race", services: ["checkout"] });
    const attempts = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(deleteRoute, "DELETE", "/teams/race", { token: adminToken }, undefined, { slug: "race" }),
      ),
    );
    const statuses = attempts.map((attempt) => attempt.status).sort();
    expect(statuses).toEqual([200, 404, 404, 404, 404, 404]);
    const winner = attempts.find((attempt) => attempt.status === 200)!;
    expect(winner.json.releasedServices).toEqual(["checkout"]);
    expect(await teamCount()).toBe(0);
    expect((await serviceTeams()).checkout).toBeNull();
  });

  it("waiting delete finds no team", async () => {
    await createTeam({ slug: "race", name: "Race", services: ["checkout"] });
    const first = await getPool().connect();
    const second = await getPool().connect();
    try {
      await first.query("BEGIN");
      await second.query("BEGIN");
      expect(await deleteTeamRow(first, "race")).toEqual(["checkout"]);
      // The second delete starts before the first commits, so it has to wait
      // for the first one and then see that the team is gone.
      const waiting = deleteTeamRow(second, "race");
      await new Promise((resolve) => setTimeout(resolve, 200));
      await first.query("COMMIT");
      expect(await waiting).toBeNull();
      await second.query("COMMIT");
    } finally {
      first.release();
      second.release();
    }
    expect(await teamCount()).toBe(0);
  });
});

describe("team validation", () => {
  it("rejects a taken slug with 409", async () => {
    await createTeam({ slug: "payments", name: "Payments" });
    const duplicate = await createTeam({ slug: "payments", name: "Other", services: ["search"] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error.field).toBe("slug");
    expect(duplicate.json.error.message).toContain('"payments" already exists');
    expect(await teamCount()).toBe(1);
    expect((await serviceTeams()).search).toBeNull();
  });

  const invalid: [string, Json, string][] = [
    ["an upper-case slug", { slug: "Payments", name: "P" }, "slug"],
    ["a slug with a space", { slug: "pay ments", name: "P" }, "slug"],
    ["a leading hyphen", { slug: "-payments", name: "P" }, "slug"],
    ["a 64-character slug", { slug: "a".repeat(64), name: "P" }, "slug"],
    ["a missing name", { slug: "payments" }, "name"],
    ["a blank name", { slug: "payments", name: "   " }, "name"],
    ["a NUL in the name", { slug: "payments", name: "Pay\u0000" }, "name"],
    ["a long description", { slug: "payments", name: "P", description: "x".repeat(1001) }, "description"],
    ["services not an array", { slug: "payments", name: "P", services: "checkout" }, "services"],
    ["an unknown service", { slug: "payments", name: "P", services: ["checkout", "nope"] }, "services[1]"],
    ["a NUL in a service slug", { slug: "payments", name: "P", services: ["checkout", "a\u0000"] }, "services[1]"],
    ["an upper-case service slug", { slug: "payments", name: "P", services: ["Checkout"] }, "services[0]"],
    ["an unknown field", { slug: "payments", name: "P", owner: "x" }, "owner"],
  ];
  for (const [name, body, field] of invalid) {
    it(`rejects ${name}`, async () => {
      const response = await createTeam(body);
      expect(response.status).toBe(400);
      expect(response.json.error.field).toBe(field);
      expect(response.json.error.message).toContain(field);
      expect(await teamCount()).toBe(0);
      expect((await serviceTeams()).checkout).toBeNull();
    });
  }

  it("rejects an unknown service on PATCH", async () => {
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout"] });
    const response = await patchTeam("payments", { name: "Renamed", services: ["orders", "ghost"] });
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("services[1]");
    const { rows } = await getPool().query<{ name: string }>("SELECT name FROM team");
    expect(rows[0]!.name).toBe("Payments");
    expect(await serviceTeams()).toEqual({ checkout: "payments", orders: null, search: null });
  });

  it("rejects a NUL service on PATCH", async () => {
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout"] });
    const response = await patchTeam("payments", { name: "Renamed", services: ["\u0000"] });
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("services[0]");
    expect(response.json.error.message).toContain("services[0]");
    const { rows } = await getPool().query<{ name: string }>("SELECT name FROM team");
    expect(rows[0]!.name).toBe("Payments");
    expect(await serviceTeams()).toEqual({ checkout: "payments", orders: null, search: null });
  });

  it("rejects an invalid path slug", async () => {
    const response = await call(getRoute, "GET", "/teams/BAD", { token: adminToken }, undefined, { slug: "BAD" });
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe("slug");
  });

  it("returns 404 for PATCH of a missing team", async () => {
    const response = await patchTeam("ghost", { name: "Ghost" });
    expect(response.status).toBe(404);
    expect(response.json.error.field).toBe("slug");
  });
});

describe("team access", () => {
  it("lets every role and token read", async () => {
    await createTeam({ slug: "payments", name: "Payments" });
    const readers: Auth[] = [
      { cookie: cookies.viewer },
      { cookie: cookies.responder },
      { cookie: cookies.manager },
      { cookie: cookies.admin },
      { token: ingestToken },
      { token: boundAdminToken },
    ];
    for (const auth of readers) {
      const response = await call(listRoute, "GET", "/teams", auth);
      expect(response.status).toBe(200);
    }
    expect((await call(listRoute, "GET", "/teams", {})).status).toBe(401);
  });

  it("lets only admins change teams", async () => {
    const rejected: [Auth, number][] = [
      [{}, 401],
      [{ cookie: cookies.viewer }, 403],
      [{ cookie: cookies.responder }, 403],
      [{ cookie: cookies.manager }, 403],
      [{ token: ingestToken }, 403],
      [{ token: boundAdminToken }, 403],
    ];
    for (const [auth, status] of rejected) {
      const response = await createTeam({ slug: "payments", name: "Payments" }, auth);
      expect(response.status).toBe(status);
    }
    expect(await teamCount()).toBe(0);

    const created = await createTeam({ slug: "payments", name: "Payments" }, { cookie: cookies.admin });
    expect(created.status).toBe(201);
    for (const [auth, status] of rejected) {
      expect((await patchTeam("payments", { name: "Changed" }, auth)).status).toBe(status);
    }
    const { rows } = await getPool().query<{ name: string }>("SELECT name FROM team");
    expect(rows[0]!.name).toBe("Payments");
  });
});

describe("team filter", () => {
  const from = new Date("2026-11-01T00:00:00Z");
  const to = new Date("2026-11-08T00:00:00Z");

  async function seedIncidents(): Promise<{ id: number; slug: string }[]> {
    const { rows: services } = await getPool().query<{ id: number; slug: string }>(
      "SELECT id, slug FROM service ORDER BY slug",
    );
    // checkout: 2 resolved and 1 open incident, orders: 1 resolved, search: 3 resolved.
    const plan: Record<string, { hoursIn: number; open: boolean }[]> = {
      checkout: [
        { hoursIn: 10, open: false },
        { hoursIn: 50, open: false },
        { hoursIn: 120, open: true },
      ],
      orders: [{ hoursIn: 30, open: false }],
      search: [
        { hoursIn: 5, open: false },
        { hoursIn: 70, open: false },
        { hoursIn: 140, open: false },
      ],
    };
    let dedup = 0;
    for (const service of services) {
      for (const incident of plan[service.slug] ?? []) {
        dedup += 1;
        const openedAt = new Date(from.getTime() + incident.hoursIn * 3_600_000);
        const resolvedAt = incident.open ? null : new Date(openedAt.getTime() + (dedup * 7 + 20) * 60_000);
        await getPool().query(
          `INSERT INTO incident (service_id, title, status, severity, source, dedup_key, opened_at, resolved_at)
           VALUES ($1, $2, $3, 'sev2', 'manual', $4, $5, $6)`,
          [
            service.id,
            `Incident ${dedup}`,
            incident.open ? "triggered" : "resolved",
            `team-filter-${dedup}`,
            openedAt,
            resolvedAt,
          ],
        );
      }
    }
    return services;
  }

  it("team KPIs equal its services' KPIs", async () => {
    const services = await seedIncidents();
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout", "orders"] });
    const filter = await resolveDashboardFilter(services, undefined, "payments");
    expect(filter.team?.slug).toBe("payments");
    expect(filter.service).toBeUndefined();
    const ids = services.filter((service) => service.slug !== "search").map((service) => service.id);
    expect([...filter.serviceIds!].sort()).toEqual([...ids].sort());

    const teamKpis = await getKpis({ from, to, serviceIds: filter.serviceIds });
    const servicesKpis = await getKpis({ from, to, serviceIds: ids });
    expect(teamKpis).toEqual(servicesKpis);
    expect(teamKpis.incidentFrequency.sampleSize).toBe(4);
    const everyKpis = await getKpis({ from, to });
    expect(everyKpis.incidentFrequency.sampleSize).toBe(7);

    const perService = await Promise.all(ids.map((id) => getKpis({ from, to, serviceIds: [id] })));
    const summed = perService.reduce((total, kpis) => total + kpis.incidentFrequency.sampleSize, 0);
    expect(teamKpis.incidentFrequency.sampleSize).toBe(summed);

    const latest = await listIncidents({ serviceIds: filter.serviceIds });
    expect(latest).toHaveLength(4);
    expect(new Set(latest.map((incident) => incident.service.slug))).toEqual(new Set(["checkout", "orders"]));
    expect((await countOpenIncidents(filter.serviceIds)).total).toBe(1);
  });

  it("empty team selects no service", async () => {
    const services = await seedIncidents();
    await createTeam({ slug: "idle", name: "Idle" });
    const filter = await resolveDashboardFilter(services, undefined, "idle");
    expect(filter.team?.slug).toBe("idle");
    expect(filter.serviceIds).toEqual([]);

    const kpis = await getKpis({ from, to, serviceIds: filter.serviceIds });
    expect(kpis.incidentFrequency.sampleSize).toBe(0);
    expect(await listIncidents({ serviceIds: filter.serviceIds })).toEqual([]);
    expect((await countOpenIncidents(filter.serviceIds)).total).toBe(0);
  });

  it("service wins over team", async () => {
    const services = await seedIncidents();
    await createTeam({ slug: "payments", name: "Payments", services: ["checkout", "orders"] });
    const filter = await resolveDashboardFilter(services, "search", "payments");
    expect(filter.service?.slug).toBe("search");
    expect(filter.team).toBeUndefined();
    expect(filter.serviceIds).toEqual([services.find((service) => service.slug === "search")!.id]);
  });

  it("unknown team shows every service", async () => {
    const services = await seedIncidents();
    const filter = await resolveDashboardFilter(services, undefined, "ghost");
    expect(filter.team).toBeUndefined();
    expect(filter.serviceIds).toBeUndefined();
  });
});

describe("create-team command", () => {
  function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [tsxCli, "scripts/vigil.ts", "create-team", ...args],
        { env: { ...process.env, LOG_LEVEL: "warn" }, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  it("creates a team with services", async () => {
    const result = await runCli(["--slug", "payments", "--name", "Payments", "--services", "orders, checkout"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Created team payments (Payments) with 2 services: checkout, orders.");
    expect(await serviceTeams()).toEqual({ checkout: "payments", orders: "payments", search: null });
  });

  it("rejects an unknown service", async () => {
    const result = await runCli(["--slug", "payments", "--name", "Payments", "--services", "checkout,ghost"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--services: services[1] names service "ghost"');
    expect(await teamCount()).toBe(0);
  });

  it("rejects a taken slug", async () => {
    await createTeam({ slug: "payments", name: "Payments" });
    const result = await runCli(["--slug", "payments", "--name", "Other"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--slug: a team with slug "payments" already exists');
  });
});
