import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "incident-workflow-test-secret-0123456789";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import * as acknowledgeRoute from "@/app/api/v1/incidents/[id]/acknowledge/route";
import * as notesRoute from "@/app/api/v1/incidents/[id]/notes/route";
import * as postmortemMarkdownRoute from "@/app/api/v1/incidents/[id]/postmortem.md/route";
import * as postmortemRoute from "@/app/api/v1/incidents/[id]/postmortem/route";
import * as reopenRoute from "@/app/api/v1/incidents/[id]/reopen/route";
import * as resolveRoute from "@/app/api/v1/incidents/[id]/resolve/route";
import * as incidentRoute from "@/app/api/v1/incidents/[id]/route";
import * as listRoute from "@/app/api/v1/incidents/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";
import { withIncidentLocked as lockIncident } from "@/tests/support/incident-lock";
import { startRouteServer, type RouteServer } from "@/tests/support/route-server";

// The incident API over real HTTP against the real database. A Node server on
// 127.0.0.1 calls the route handlers. The tests cover authentication and
// roles, bad input that writes nothing, races between two responders,
// reopen, severity, assignee, notes, postmortems and the Markdown export.

const PORT = 3201;
const databaseUrl = process.env.DATABASE_URL!;

type User = { id: number; name: string };

type Fixture = {
  checkout: number;
  billing: number;
  alice: User;
  bob: User;
  vera: User;
  adminToken: string;
  ingestToken: string;
  billingToken: string;
  checkoutToken: string;
};

let server: RouteServer;
let fixture: Fixture;
let dedup = 0;

const ID = "(?<id>[^/]+)";
beforeAll(async () => {
  server = await startRouteServer(
    [
      { method: "GET", pattern: /^\/api\/v1\/incidents$/, handler: listRoute.GET },
      { method: "GET", pattern: new RegExp(`^/api/v1/incidents/${ID}$`), handler: incidentRoute.GET },
      { method: "PATCH", pattern: new RegExp(`^/api/v1/incidents/${ID}$`), handler: incidentRoute.PATCH },
      { method: "POST", pattern: new RegExp(`^/api/v1/incidents/${ID}/acknowledge$`), handler: acknowledgeRoute.POST },
      { method: "POST", pattern: new RegExp(`^/api/v1/incidents/${ID}/resolve$`), handler: resolveRoute.POST },
      { method: "POST", pattern: new RegExp(`^/api/v1/incidents/${ID}/reopen$`), handler: reopenRoute.POST },
      { method: "POST", pattern: new RegExp(`^/api/v1/incidents/${ID}/notes$`), handler: notesRoute.POST },
      { method: "GET", pattern: new RegExp(`^/api/v1/incidents/${ID}/postmortem$`), handler: postmortemRoute.GET },
      { method: "PUT", pattern: new RegExp(`^/api/v1/incidents/${ID}/postmortem$`), handler: postmortemRoute.PUT },
      { method: "GET", pattern: new RegExp(`^/api/v1/incidents/${ID}/postmortem\\.md$`), handler: postmortemMarkdownRoute.GET },
    ],
    PORT,
  );
});

afterAll(async () => {
  await server?.close();
  await closeDb();
});

async function addUser(email: string, name: string, role: string): Promise<User> {
  // These users never log in with a password; the tests send a session
  // cookie instead, so a placeholder replaces the bcrypt hash.
  const { rows } = await getPool().query<User>(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ($1, $2, '-', $3) RETURNING id, name`,
    [email, name, role],
  );
  return rows[0]!;
}

async function addService(slug: string): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $2) RETURNING id",
    [slug, slug[0]!.toUpperCase() + slug.slice(1)],
  );
  return rows[0]!.id;
}

beforeEach(async () => {
  await truncateAll(databaseUrl);
  const checkout = await addService("checkout");
  const billing = await addService("billing");
  fixture = {
    checkout,
    billing,
    alice: await addUser("alice@example.test", "Alice", "responder"),
    bob: await addUser("bob@example.test", "Bob", "admin"),
    vera: await addUser("vera@example.test", "Vera", "viewer"),
    adminToken: (await createApiToken({ name: "oncall-bot", scope: "admin" })).token,
    ingestToken: (await createApiToken({ name: "exporter", scope: "ingest" })).token,
    billingToken: (
      await createApiToken({ name: "billing-bot", scope: "admin", serviceId: billing })
    ).token,
    checkoutToken: (
      await createApiToken({ name: "checkout-bot", scope: "admin", serviceId: checkout })
    ).token,
  };
});

type IncidentOptions = {
  serviceId?: number;
  status?: "triggered" | "acknowledged" | "resolved";
  severity?: string;
  source?: "detector" | "alert" | "manual";
  seriesId?: number | null;
  openedAt?: Date;
  resolvedAt?: Date | null;
  title?: string;
};

async function addIncident(options: IncidentOptions = {}): Promise<number> {
  dedup += 1;
  const status = options.status ?? "triggered";
  const openedAt = options.openedAt ?? new Date(Date.now() - 30 * 60_000);
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO incident
       (service_id, series_id, title, status, severity, source, dedup_key,
        opened_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      options.serviceId ?? fixture.checkout,
      options.seriesId ?? null,
      options.title ?? "p99 latency above expected range",
      status,
      options.severity ?? "sev3",
      options.source ?? "manual",
      `workflow-test-${dedup}`,
      openedAt,
      status === "resolved" ? (options.resolvedAt ?? new Date()) : null,
    ],
  );
  await getPool().query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, created_at)
     VALUES ($1, 'opened', 'worker', 'anomaly detector', 'Opened', $2)`,
    [rows[0]!.id, openedAt],
  );
  return rows[0]!.id;
}

type Auth = { token: string } | { user: User; origin?: string | null } | null;

async function sessionCookie(user: User): Promise<string> {
  const token = await encode({
    token: { userId: user.id, name: user.name, sub: String(user.id) },
    secret: SESSION_SECRET,
  });
  return `next-auth.session-token=${token}`;
}

type ApiResponse = {
  status: number;
  json: any;
  text: string;
  headers: Headers;
};

async function api(
  method: string,
  path: string,
  options: { auth?: Auth; body?: unknown; contentType?: string } = {},
): Promise<ApiResponse> {
  const auth = options.auth === undefined ? { token: fixture.adminToken } : options.auth;
  const headers: Record<string, string> = {};
  if (auth && "token" in auth) headers.authorization = `Bearer ${auth.token}`;
  if (auth && "user" in auth) {
    headers.cookie = await sessionCookie(auth.user);
    if (auth.origin !== null) headers.origin = auth.origin ?? server.baseUrl;
  }
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    headers["content-type"] = options.contentType ?? "application/json";
  } else if (auth && "user" in auth && method !== "GET") {
    body = "{}";
    headers["content-type"] = "application/json";
  }
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** Runs `start` while the incident's row is locked, until two requests wait on it. */
function withIncidentLocked<T>(incidentId: number, start: () => Promise<T>): Promise<T> {
  return lockIncident(databaseUrl, incidentId, 2, start);
}

/** Rows a rejected request must leave as they were. */
async function snapshot() {
  const pool = getPool();
  const [incidents, events, postmortems, followUps] = await Promise.all([
    pool.query(
      `SELECT id, status, severity, assignee_id, acknowledged_at, acknowledged_by_id,
              resolved_at, resolved_by_id FROM incident ORDER BY id`,
    ),
    pool.query("SELECT id, kind, message FROM incident_event ORDER BY id"),
    pool.query("SELECT * FROM incident_postmortem ORDER BY incident_id"),
    pool.query("SELECT * FROM postmortem_follow_up ORDER BY id"),
  ]);
  return {
    incidents: incidents.rows,
    events: events.rows,
    postmortems: postmortems.rows,
    followUps: followUps.rows,
  };
}

async function events(incidentId: number) {
  const { rows } = await getPool().query<{
    kind: string;
    actor_type: string;
    actor_id: number | null;
    actor_name: string;
    message: string;
    data: any;
    created_at: Date;
  }>(
    `SELECT kind, actor_type, actor_id, actor_name, message, data, created_at
       FROM incident_event WHERE incident_id = $1 AND kind <> 'opened'
      ORDER BY created_at, id`,
    [incidentId],
  );
  return rows;
}

async function incidentRow(incidentId: number) {
  const { rows } = await getPool().query(
    "SELECT * FROM incident WHERE id = $1",
    [incidentId],
  );
  return rows[0];
}

describe("authentication and roles", () => {
  it("rejects a request without credentials", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: null });

    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe("unauthorized");
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a viewer's changes with 403", async () => {
    const id = await addIncident();
    const before = await snapshot();
    const viewer = { user: fixture.vera };

    const requests = [
      api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: viewer }),
      api("POST", `/api/v1/incidents/${id}/resolve`, { auth: viewer }),
      api("POST", `/api/v1/incidents/${id}/reopen`, { auth: viewer, body: { reason: "x" } }),
      api("PATCH", `/api/v1/incidents/${id}`, { auth: viewer, body: { severity: "sev1" } }),
      api("POST", `/api/v1/incidents/${id}/notes`, { auth: viewer, body: { text: "hi" } }),
      api("PUT", `/api/v1/incidents/${id}/postmortem`, {
        auth: viewer,
        body: { version: null, summary: "x" },
      }),
    ];
    for (const response of await Promise.all(requests)) {
      expect(response.status).toBe(403);
      expect(response.json.error.message).toMatch(/your role \(viewer\) cannot/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("lets a viewer read", async () => {
    const id = await addIncident();

    const detail = await api("GET", `/api/v1/incidents/${id}`, { auth: { user: fixture.vera } });
    const list = await api("GET", "/api/v1/incidents", { auth: { user: fixture.vera } });
    const markdown = await api("GET", `/api/v1/incidents/${id}/postmortem.md`, {
      auth: { user: fixture.vera },
    });

    expect(detail.status).toBe(200);
    expect(detail.json.incident.id).toBe(id);
    expect(list.status).toBe(200);
    expect(list.json.incidents).toHaveLength(1);
    expect(markdown.status).toBe(200);
  });

  it("rejects an ingest token's changes with 403", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${id}/acknowledge`, {
      auth: { token: fixture.ingestToken },
    });
    const read = await api("GET", `/api/v1/incidents/${id}`, {
      auth: { token: fixture.ingestToken },
    });

    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe("insufficient_scope");
    expect(read.status).toBe(200);
    expect(await snapshot()).toEqual(before);
  });

  it("limits a bound token to its service", async () => {
    const checkoutIncident = await addIncident();
    const billingIncident = await addIncident({ serviceId: fixture.billing });
    const before = await snapshot();
    const billing = { token: fixture.billingToken };

    const ack = await api("POST", `/api/v1/incidents/${checkoutIncident}/acknowledge`, { auth: billing });
    const read = await api("GET", `/api/v1/incidents/${checkoutIncident}`, { auth: billing });
    const listOther = await api("GET", "/api/v1/incidents?service=checkout", { auth: billing });
    const list = await api("GET", "/api/v1/incidents", { auth: billing });

    expect(ack.status).toBe(403);
    expect(read.status).toBe(403);
    expect(listOther.status).toBe(403);
    expect(listOther.json.error.field).toBe("service");
    expect(list.status).toBe(200);
    expect(list.json.incidents.map((incident: any) => incident.id)).toEqual([billingIncident]);
    expect(await snapshot()).toEqual(before);

    const own = await api("POST", `/api/v1/incidents/${billingIncident}/acknowledge`, { auth: billing });
    expect(own.status).toBe(200);
  });

  it("rejects a session change from another site", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${id}/acknowledge`, {
      auth: { user: fixture.alice, origin: "https://evil.example" },
    });

    expect(response.status).toBe(403);
    expect(response.json.error.code).toBe("cross_origin");
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a session change without JSON", async () => {
    const id = await addIncident();

    const response = await api("POST", `/api/v1/incidents/${id}/notes`, {
      auth: { user: fixture.alice },
      body: "text=hello",
      contentType: "application/x-www-form-urlencoded",
    });

    expect(response.status).toBe(415);
    expect(await events(id)).toEqual([]);
  });
});

describe("acknowledge and resolve", () => {
  it("acknowledges as a token", async () => {
    const id = await addIncident();

    const response = await api("POST", `/api/v1/incidents/${id}/acknowledge`);

    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ outcome: "applied", action: "acknowledge", incidentId: id });
    const row = await incidentRow(id);
    expect(row.status).toBe("acknowledged");
    expect(row.acknowledged_by_id).toBeNull();
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatchObject({
      kind: "acknowledged",
      actor_type: "token",
      actor_name: "API token oncall-bot",
      message: "API token oncall-bot acknowledged the incident",
    });
    expect(timeline[0]!.created_at).toEqual(row.acknowledged_at);
  });

  it("resolves as a responder session", async () => {
    const id = await addIncident();

    const response = await api("POST", `/api/v1/incidents/${id}/resolve`, {
      auth: { user: fixture.alice },
    });

    expect(response.status).toBe(200);
    const row = await incidentRow(id);
    expect(row.status).toBe("resolved");
    expect(row.resolved_by_id).toBe(fixture.alice.id);
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatchObject({ kind: "resolved", actor_type: "user", actor_id: fixture.alice.id });
  });

  it("answers 409 naming the earlier acknowledger", async () => {
    const id = await addIncident();
    await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${id}/acknowledge`, {
      auth: { user: fixture.bob },
    });

    expect(response.status).toBe(409);
    expect(response.json.error.code).toBe("conflict");
    expect(response.json.error.by).toBe("Alice");
    expect(response.json.error.status).toBe("acknowledged");
    expect(response.json.error.at).toBe(before.incidents[0].acknowledged_at.toISOString());
    expect(response.json.error.message).toContain("Alice acknowledged it at");
    expect(await snapshot()).toEqual(before);
  });

  it("lets one of two concurrent acknowledges win", async () => {
    const id = await addIncident();

    const responses = await withIncidentLocked(id, () =>
      Promise.all([
        api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } }),
        api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.bob } }),
      ]),
    );

    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 409]);
    const row = await incidentRow(id);
    const winner = row.acknowledged_by_id === fixture.alice.id ? fixture.alice : fixture.bob;
    expect([fixture.alice.id, fixture.bob.id]).toContain(row.acknowledged_by_id);
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.json.error.by).toBe(winner.name);
    expect(loser.json.error.at).toBe(row.acknowledged_at.toISOString());
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    expect(timeline[0]!.actor_id).toBe(winner.id);
  });

  it("lets one of two concurrent resolves win", async () => {
    const id = await addIncident({ status: "acknowledged" });

    const responses = await withIncidentLocked(id, () =>
      Promise.all([
        api("POST", `/api/v1/incidents/${id}/resolve`, { auth: { token: fixture.adminToken } }),
        api("POST", `/api/v1/incidents/${id}/resolve`, { auth: { user: fixture.bob } }),
      ]),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.json.error.by).toBe(timeline[0]!.actor_name);
    expect(loser.json.error.status).toBe("resolved");
  });

  it("rejects bad ids and bodies", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const cases: [string, unknown, number, string][] = [
      ["/api/v1/incidents/abc/acknowledge", undefined, 400, "id"],
      ["/api/v1/incidents/0/acknowledge", undefined, 400, "id"],
      ["/api/v1/incidents/99999999999/acknowledge", undefined, 400, "id"],
      [`/api/v1/incidents/${id}/acknowledge`, { force: true }, 400, "force"],
      [`/api/v1/incidents/${id}/acknowledge`, "{not json", 400, ""],
    ];
    for (const [path, body, status, field] of cases) {
      const response = await api("POST", path, { body });
      expect(response.status, path).toBe(status);
      if (field) expect(response.json.error.field, path).toBe(field);
    }
    const missing = await api("POST", "/api/v1/incidents/424242/acknowledge");
    expect(missing.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });
});

describe("reopen", () => {
  it("reopens with a reason and keeps history", async () => {
    const id = await addIncident();
    await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    await api("POST", `/api/v1/incidents/${id}/resolve`, { auth: { user: fixture.alice } });
    const resolved = await incidentRow(id);

    const response = await api("POST", `/api/v1/incidents/${id}/reopen`, {
      auth: { user: fixture.bob },
      body: { reason: "  Latency is back  " },
    });

    expect(response.status).toBe(200);
    const row = await incidentRow(id);
    expect(row.status).toBe("triggered");
    expect(row.acknowledged_at).toBeNull();
    expect(row.acknowledged_by_id).toBeNull();
    expect(row.resolved_at).toBeNull();
    expect(row.resolved_by_id).toBeNull();
    const timeline = await events(id);
    expect(timeline.map((event) => event.kind)).toEqual(["acknowledged", "resolved", "reopened"]);
    expect(timeline[2]).toMatchObject({
      actor_type: "user",
      actor_id: fixture.bob.id,
      message: "Bob reopened the incident: Latency is back.",
    });
    expect(timeline[2]!.data.reason).toBe("Latency is back");
    expect(timeline[2]!.data.previous).toEqual({
      acknowledgedAt: resolved.acknowledged_at.toISOString(),
      acknowledgedById: fixture.alice.id,
      resolvedAt: resolved.resolved_at.toISOString(),
      resolvedById: fixture.alice.id,
    });

    const again = await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    expect(again.status).toBe(200);
  });

  it("answers 409 for an open incident", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${id}/reopen`, { body: { reason: "again" } });

    expect(response.status).toBe(409);
    expect(response.json.error.status).toBe("triggered");
    expect(response.json.error.by).toBe("anomaly detector");
    expect(response.json.error.message).toContain("is already open");
    expect(await snapshot()).toEqual(before);
  });

  it("lets one of two concurrent reopens win", async () => {
    const id = await addIncident({ status: "resolved" });

    const responses = await withIncidentLocked(id, () =>
      Promise.all([
        api("POST", `/api/v1/incidents/${id}/reopen`, { auth: { user: fixture.alice }, body: { reason: "a" } }),
        api("POST", `/api/v1/incidents/${id}/reopen`, { auth: { user: fixture.bob }, body: { reason: "b" } }),
      ]),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.json.error.by).toBe(timeline[0]!.actor_name);
  });

  it("rejects a second open detector incident", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels_key) VALUES ($1, 'cpu', '{}') RETURNING id`,
      [fixture.checkout],
    );
    const seriesId = rows[0]!.id;
    const old = await addIncident({ source: "detector", seriesId, status: "resolved" });
    const open = await addIncident({ source: "detector", seriesId });
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${old}/reopen`, { body: { reason: "same cause" } });

    expect(response.status).toBe(409);
    expect(response.json.error.openIncidentId).toBe(open);
    expect(response.json.error.message).toContain(`open incident ${open}`);
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a second open alert incident", async () => {
    const old = await addIncident({ source: "alert", status: "resolved" });
    const open = await addIncident({ source: "alert" });
    await getPool().query("UPDATE incident SET alert_fingerprint = 'abc' WHERE id = ANY($1)", [[old, open]]);
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${old}/reopen`, { body: { reason: "again" } });

    expect(response.status).toBe(409);
    expect(response.json.error.openIncidentId).toBe(open);
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a grouped series open elsewhere", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels_key)
       VALUES ($1, 'cpu', '{}'), ($1, 'latency_p99_ms', '{}') RETURNING id`,
      [fixture.checkout],
    );
    const [cpu, latency] = [rows[0]!.id, rows[1]!.id];
    // The old incident opened on cpu and grouped latency; the open one
    // opened on latency alone.
    const old = await addIncident({ source: "detector", seriesId: cpu, status: "resolved" });
    const open = await addIncident({ source: "detector", seriesId: latency });
    await getPool().query(
      `INSERT INTO incident_series (incident_id, series_id, onset_at, peak_score, peak_at)
       VALUES ($1, $2, now() - interval '40 minutes', 5, now() - interval '40 minutes'),
              ($1, $3, now() - interval '39 minutes', 4, now() - interval '39 minutes'),
              ($4, $3, now() - interval '10 minutes', 6, now() - interval '10 minutes')`,
      [old, cpu, latency, open],
    );
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${old}/reopen`, { body: { reason: "same cause" } });

    expect(response.status).toBe(409);
    expect(response.json.error.openIncidentId).toBe(open);
    expect(response.json.error.message).toContain(`series ${latency} (latency_p99_ms)`);
    expect(response.json.error.message).toContain(`open incident ${open}`);
    expect(await snapshot()).toEqual(before);
  });

  it("rejects a grouped alert open elsewhere", async () => {
    const old = await addIncident({ source: "alert", status: "resolved" });
    const open = await addIncident({ source: "alert" });
    await getPool().query(
      "UPDATE incident SET alert_fingerprint = CASE WHEN id = $1 THEN 'first' ELSE 'other' END WHERE id = ANY($2)",
      [old, [old, open]],
    );
    // "joined" was grouped into the old incident and now fires in the open one.
    await getPool().query(
      `INSERT INTO incident_alert (incident_id, fingerprint, starts_at, last_starts_at, resolved)
       VALUES ($1, 'first', now() - interval '1 hour', now() - interval '1 hour', true),
              ($1, 'joined', now() - interval '1 hour', now() - interval '1 hour', true),
              ($2, 'other', now(), now(), false),
              ($2, 'joined', now(), now(), false)`,
      [old, open],
    );
    const before = await snapshot();

    const response = await api("POST", `/api/v1/incidents/${old}/reopen`, { body: { reason: "again" } });

    expect(response.status).toBe(409);
    expect(response.json.error.openIncidentId).toBe(open);
    expect(response.json.error.message).toContain("alert joined");
    expect(await snapshot()).toEqual(before);

    // Another service's open incident with that fingerprint is no conflict.
    await getPool().query("UPDATE incident SET service_id = $1 WHERE id = $2", [fixture.billing, open]);
    const reopened = await api("POST", `/api/v1/incidents/${old}/reopen`, { body: { reason: "again" } });
    expect(reopened.status).toBe(200);
  });

  it("restarts and stops the escalation", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      `INSERT INTO escalation_policy (name, service_id) VALUES ('checkout', $1) RETURNING id`,
      [fixture.checkout],
    );
    await getPool().query(
      "INSERT INTO escalation_level (policy_id, position, delay_minutes) VALUES ($1, 1, 5)",
      [rows[0]!.id],
    );
    const id = await addIncident({ status: "resolved" });
    const escalation = async () =>
      (
        await getPool().query(
          "SELECT status, cycle, stop_reason FROM incident_escalation WHERE incident_id = $1",
          [id],
        )
      ).rows[0];

    await api("POST", `/api/v1/incidents/${id}/reopen`, { body: { reason: "back" } });
    const restarted = await escalation();
    await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    const stopped = await escalation();
    await api("POST", `/api/v1/incidents/${id}/resolve`, { auth: { user: fixture.alice } });
    await api("POST", `/api/v1/incidents/${id}/reopen`, { body: { reason: "again" } });
    const second = await escalation();

    expect(restarted).toEqual({ status: "active", cycle: 1, stop_reason: null });
    expect(stopped).toEqual({ status: "stopped", cycle: 1, stop_reason: "acknowledged" });
    expect(second).toEqual({ status: "active", cycle: 2, stop_reason: null });
    const kinds = (await events(id)).map((event) => event.kind);
    expect(kinds).toContain("escalation_stopped");
  });

  it("rejects a bad reason", async () => {
    const id = await addIncident({ status: "resolved" });
    const before = await snapshot();

    const cases: [unknown, string][] = [
      [{}, "reason is required"],
      [{ reason: "   " }, "reason must contain at least 1"],
      [{ reason: "x".repeat(2001) }, "at most 2000"],
      [{ reason: "a\u0000b" }, "NUL"],
      [{ reason: "a\ud800b" }, "surrogate"],
      [{ reason: 5 }, "must be a string"],
    ];
    for (const [body, message] of cases) {
      const response = await api("POST", `/api/v1/incidents/${id}/reopen`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.error.message, JSON.stringify(body)).toContain(message);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("PATCH severity and assignee", () => {
  it("changes both with one event each", async () => {
    const id = await addIncident();

    const response = await api("PATCH", `/api/v1/incidents/${id}`, {
      auth: { user: fixture.bob },
      body: { severity: "sev1", assigneeId: fixture.alice.id },
    });

    expect(response.status).toBe(200);
    expect(response.json.outcome).toBe("applied");
    expect(response.json.incident.severity).toBe("sev1");
    expect(response.json.incident.assignee).toEqual({ id: fixture.alice.id, name: "Alice" });
    const timeline = await events(id);
    expect(timeline.map((event) => event.kind)).toEqual(["severity_changed", "assigned"]);
    expect(timeline[0]!.message).toBe("Bob changed the severity from SEV3 to SEV1");
    expect(timeline[1]!.message).toBe("Bob assigned the incident to Alice");
    expect(timeline[1]!.actor_id).toBe(fixture.bob.id);
  });

  it("severity change sets the downtime flag", async () => {
    const alert = await addIncident({ source: "alert" });
    const detector = await addIncident({ source: "detector" });
    await getPool().query(
      "UPDATE incident SET service_impacting = (source = 'detector') WHERE id = ANY($1::int[])",
      [[alert, detector]],
    );
    const impacting = async (id: number) =>
      (
        await getPool().query<{ service_impacting: boolean }>(
          "SELECT service_impacting FROM incident WHERE id = $1",
          [id],
        )
      ).rows[0]!.service_impacting;

    await api("PATCH", `/api/v1/incidents/${alert}`, { body: { severity: "sev2" } });
    expect(await impacting(alert)).toBe(true);
    await api("PATCH", `/api/v1/incidents/${alert}`, { body: { severity: "sev4" } });
    expect(await impacting(alert)).toBe(false);
    await api("PATCH", `/api/v1/incidents/${detector}`, { body: { severity: "sev4" } });
    expect(await impacting(detector)).toBe(true);
  });

  it("unassigns and reassigns", async () => {
    const id = await addIncident();
    await api("PATCH", `/api/v1/incidents/${id}`, { body: { assigneeId: fixture.alice.id } });

    const reassign = await api("PATCH", `/api/v1/incidents/${id}`, { body: { assigneeId: fixture.bob.id } });
    const unassign = await api("PATCH", `/api/v1/incidents/${id}`, { body: { assigneeId: null } });

    expect(reassign.status).toBe(200);
    expect(unassign.status).toBe(200);
    expect(unassign.json.incident.assignee).toBeNull();
    const messages = (await events(id)).map((event) => event.message);
    expect(messages).toEqual([
      "API token oncall-bot assigned the incident to Alice",
      "API token oncall-bot assigned the incident to Bob (was Alice)",
      "API token oncall-bot unassigned Bob",
    ]);
  });

  it("writes nothing when nothing changes", async () => {
    const id = await addIncident({ severity: "sev2" });
    const before = await snapshot();

    const response = await api("PATCH", `/api/v1/incidents/${id}`, { body: { severity: "sev2" } });

    expect(response.status).toBe(200);
    expect(response.json.outcome).toBe("unchanged");
    expect(response.json.changes).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("rejects bad values", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const cases: [unknown, number, string][] = [
      [{}, 400, ""],
      [{ severity: "sev5" }, 400, "severity"],
      [{ severity: "sev1", extra: 1 }, 400, "extra"],
      [{ assigneeId: "1" }, 400, "assigneeId"],
      [{ assigneeId: -1 }, 400, "assigneeId"],
      [{ assigneeId: 424242 }, 422, "assigneeId"],
      [{ severity: "sev1", assigneeId: fixture.vera.id }, 422, "assigneeId"],
    ];
    for (const [body, status, field] of cases) {
      const response = await api("PATCH", `/api/v1/incidents/${id}`, { body });
      expect(response.status, JSON.stringify(body)).toBe(status);
      if (field) expect(response.json.error.field, JSON.stringify(body)).toBe(field);
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe("notes", () => {
  it("adds a note to the timeline", async () => {
    const id = await addIncident();

    const response = await api("POST", `/api/v1/incidents/${id}/notes`, {
      auth: { user: fixture.alice },
      body: { text: "  Rolled back v42, watching p99.  " },
    });

    expect(response.status).toBe(201);
    expect(response.json.note).toMatchObject({ incidentId: id, text: "Rolled back v42, watching p99.", actorName: "Alice" });
    const timeline = await events(id);
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatchObject({
      kind: "note",
      actor_type: "user",
      actor_id: fixture.alice.id,
      message: "Rolled back v42, watching p99.",
    });
  });

  it("rejects empty, long and invalid text", async () => {
    const id = await addIncident();
    const before = await snapshot();

    const cases: [unknown, number, string][] = [
      [{ text: "" }, 400, "text"],
      [{ text: " \n " }, 400, "text"],
      [{ text: "x".repeat(5001) }, 400, "text"],
      [{ text: "bad\u0000byte" }, 400, "text"],
      [{ text: "lone \udc00 half" }, 400, "text"],
      [{ note: "hi" }, 400, "text"],
    ];
    for (const [body, status, field] of cases) {
      const response = await api("POST", `/api/v1/incidents/${id}/notes`, { body });
      expect(response.status, JSON.stringify(body).slice(0, 40)).toBe(status);
      expect(response.json.error.field).toBe(field);
    }
    const missing = await api("POST", "/api/v1/incidents/424242/notes", { body: { text: "hi" } });
    expect(missing.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("accepts a note of exactly the limit", async () => {
    const id = await addIncident();

    const response = await api("POST", `/api/v1/incidents/${id}/notes`, { body: { text: "é".repeat(5000) } });

    expect(response.status).toBe(201);
  });
});

describe("list and detail", () => {
  it("filters by status, service and severity", async () => {
    const a = await addIncident({ severity: "sev1" });
    const b = await addIncident({ status: "acknowledged", severity: "sev2" });
    const c = await addIncident({ status: "resolved", severity: "sev1" });
    const d = await addIncident({ serviceId: fixture.billing, severity: "sev1" });

    const ids = async (query: string) => {
      const response = await api("GET", `/api/v1/incidents${query}`);
      expect(response.status, query).toBe(200);
      return response.json.incidents.map((incident: any) => incident.id).sort();
    };

    expect(await ids("")).toEqual([a, b, c, d].sort());
    expect(await ids("?status=open")).toEqual([a, b, d].sort());
    expect(await ids("?status=resolved,acknowledged")).toEqual([b, c].sort());
    expect(await ids("?service=billing")).toEqual([d]);
    expect(await ids("?severity=sev1&service=checkout")).toEqual([a, c].sort());
    expect(await ids("?severity=sev1&status=triggered")).toEqual([a, d].sort());
  });

  it("filters by assignee", async () => {
    const a = await addIncident();
    const b = await addIncident();
    await api("PATCH", `/api/v1/incidents/${a}`, { body: { assigneeId: fixture.alice.id } });

    const mine = await api("GET", `/api/v1/incidents?assignee=${fixture.alice.id}`);
    const none = await api("GET", "/api/v1/incidents?assignee=none");

    expect(mine.json.incidents.map((incident: any) => incident.id)).toEqual([a]);
    expect(mine.json.incidents[0].assignee).toEqual({ id: fixture.alice.id, name: "Alice" });
    expect(none.json.incidents.map((incident: any) => incident.id)).toEqual([b]);
  });

  it("pages with a cursor", async () => {
    const base = Date.UTC(2026, 11, 1, 12);
    const ids: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(await addIncident({ openedAt: new Date(base + i * 60_000) }));
    }
    // Two incidents at the same time are ordered by id.
    ids.push(await addIncident({ openedAt: new Date(base + 4 * 60_000) }));
    const expected = [ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]];

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const response = await api("GET", `/api/v1/incidents${query}`);
      expect(response.status).toBe(200);
      seen.push(...response.json.incidents.map((incident: any) => incident.id));
      cursor = response.json.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);

    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });

  it("rejects bad query parameters", async () => {
    const cases: [string, number, string][] = [
      ["?status=closed", 400, "status"],
      ["?severity=sev0", 400, "severity"],
      ["?limit=0", 400, "limit"],
      ["?limit=201", 400, "limit"],
      ["?limit=abc", 400, "limit"],
      ["?cursor=zzz", 400, "cursor"],
      ["?assignee=me", 400, "assignee"],
      ["?service=nope", 404, "service"],
      ["?service=%00", 400, "service"],
      ["?service=Checkout", 400, "service"],
    ];
    for (const [query, status, field] of cases) {
      const response = await api("GET", `/api/v1/incidents${query}`);
      expect(response.status, query).toBe(status);
      expect(response.json.error.field, query).toBe(field);
    }
  });

  it("returns the timeline with actors and timings", async () => {
    const id = await addIncident();
    await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    await api("POST", `/api/v1/incidents/${id}/notes`, { body: { text: "Looking" } });

    const response = await api("GET", `/api/v1/incidents/${id}`);

    expect(response.status).toBe(200);
    const incident = response.json.incident;
    expect(incident.status).toBe("acknowledged");
    expect(incident.acknowledgedBy).toBe("Alice");
    expect(incident.timeline.map((event: any) => event.kind)).toEqual(["opened", "acknowledged", "note"]);
    expect(incident.timeline[2].actor).toEqual({ type: "token", id: expect.any(Number), name: "API token oncall-bot" });
    expect(incident.timings.timeToAcknowledgeSeconds).toBeGreaterThanOrEqual(30 * 60 - 5);
    expect(incident.timings.timeToResolveSeconds).toBeNull();
    expect(incident.timings.reopenCount).toBe(0);
    expect(incident.postmortem).toBeNull();
  });
});

const POSTMORTEM = {
  version: null,
  summary: "Checkout p99 rose to 4 s for 40 minutes.",
  impact: "About 3% of payments **timed out**.",
  rootCause: "A connection pool of 5 after the v42 deploy.",
  followUps: [
    { description: "Alert on pool saturation", ownerId: null as number | null, dueDate: "2026-12-20", done: false },
    { description: "Load-test pool sizes | before deploys", ownerId: null as number | null, dueDate: null, done: true },
  ],
};

describe("postmortem", () => {
  it("creates, reads and updates", async () => {
    const id = await addIncident({ status: "resolved" });
    const body = structuredClone(POSTMORTEM);
    body.followUps[0]!.ownerId = fixture.alice.id;

    const created = await api("PUT", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.bob }, body });

    expect(created.status).toBe(201);
    expect(created.json.outcome).toBe("created");
    const postmortem = created.json.postmortem;
    expect(postmortem.version).toBe(1);
    expect(postmortem.updatedBy).toEqual({ type: "user", id: fixture.bob.id, name: "Bob" });
    expect(postmortem.followUps).toMatchObject([
      { position: 0, description: "Alert on pool saturation", owner: { id: fixture.alice.id, name: "Alice" }, dueDate: "2026-12-20", done: false },
      { position: 1, owner: null, dueDate: null, done: true },
    ]);

    const read = await api("GET", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.vera } });
    expect(read.json.postmortem).toEqual(postmortem);

    const [first, second] = postmortem.followUps;
    const updated = await api("PUT", `/api/v1/incidents/${id}/postmortem`, {
      auth: { user: fixture.alice },
      body: {
        ...body,
        version: 1,
        rootCause: "Pool of 5 connections.",
        followUps: [
          { id: second.id, description: second.description, ownerId: null, dueDate: null, done: true },
          { id: first.id, description: first.description, ownerId: fixture.alice.id, dueDate: "2026-12-20", done: true },
          { description: "Document pool sizing", ownerId: fixture.bob.id, dueDate: null, done: false },
        ],
      },
    });

    expect(updated.status).toBe(200);
    expect(updated.json.postmortem.version).toBe(2);
    expect(updated.json.postmortem.followUps.map((item: any) => item.id).slice(0, 2)).toEqual([second.id, first.id]);
    const timeline = await events(id);
    expect(timeline.map((event) => event.kind)).toEqual(["postmortem_updated", "postmortem_updated"]);
    expect(timeline[0]!.message).toBe("Bob wrote the postmortem");
    expect(timeline[1]!.message).toBe(
      "Alice updated the postmortem: root cause, 1 follow-up item added, 1 follow-up item marked done, 1 follow-up item edited",
    );
  });

  it("writes nothing for an unchanged save", async () => {
    const id = await addIncident();
    const created = await api("PUT", `/api/v1/incidents/${id}/postmortem`, { body: POSTMORTEM });
    const before = await snapshot();
    const followUps = created.json.postmortem.followUps.map((item: any) => ({
      id: item.id,
      description: item.description,
      ownerId: null,
      dueDate: item.dueDate,
      done: item.done,
    }));

    const response = await api("PUT", `/api/v1/incidents/${id}/postmortem`, {
      body: { ...POSTMORTEM, version: 1, followUps },
    });

    expect(response.status).toBe(200);
    expect(response.json.outcome).toBe("unchanged");
    expect(await snapshot()).toEqual(before);
  });

  it("answers 409 to a stale version", async () => {
    const id = await addIncident();
    await api("PUT", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.alice }, body: POSTMORTEM });
    await api("PUT", `/api/v1/incidents/${id}/postmortem`, {
      auth: { user: fixture.alice },
      body: { ...POSTMORTEM, version: 1, summary: "Second" },
    });
    const before = await snapshot();

    const response = await api("PUT", `/api/v1/incidents/${id}/postmortem`, {
      auth: { user: fixture.bob },
      body: { ...POSTMORTEM, version: 1, summary: "Bob's" },
    });

    expect(response.status).toBe(409);
    expect(response.json.error).toMatchObject({ code: "conflict", field: "version", version: 2, updatedBy: "Alice" });
    expect(response.json.error.message).toContain("Alice saved version 2");
    expect(await snapshot()).toEqual(before);
  });

  it("lets one of two concurrent creates win", async () => {
    const id = await addIncident();

    const responses = await withIncidentLocked(id, () =>
      Promise.all([
        api("PUT", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.alice }, body: { ...POSTMORTEM, summary: "A" } }),
        api("PUT", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.bob }, body: { ...POSTMORTEM, summary: "B" } }),
      ]),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([201, 409]);
    const winner = responses.find((response) => response.status === 201)!;
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.json.error.updatedBy).toBe(winner.json.postmortem.updatedBy.name);
    const { rows } = await getPool().query("SELECT count(*)::int AS n FROM postmortem_follow_up WHERE incident_id = $1", [id]);
    expect(rows[0].n).toBe(2);
    expect(await events(id)).toHaveLength(1);
  });

  it("lets one of two concurrent updates win", async () => {
    const id = await addIncident();
    await api("PUT", `/api/v1/incidents/${id}/postmortem`, { body: POSTMORTEM });

    const responses = await withIncidentLocked(id, () =>
      Promise.all([
        api("PUT", `/api/v1/incidents/${id}/postmortem`, {
          auth: { user: fixture.alice },
          body: { ...POSTMORTEM, version: 1, summary: "Alice's" },
        }),
        api("PUT", `/api/v1/incidents/${id}/postmortem`, {
          auth: { user: fixture.bob },
          body: { ...POSTMORTEM, version: 1, summary: "Bob's" },
        }),
      ]),
    );

    expect(responses.map((response) => response.status).sort()).toEqual([200, 409]);
    const winner = responses.find((response) => response.status === 200)!;
    const loser = responses.find((response) => response.status === 409)!;
    expect(loser.json.error.updatedBy).toBe(winner.json.postmortem.updatedBy.name);
    expect(loser.json.error.version).toBe(2);
    const { rows } = await getPool().query(
      "SELECT summary, version FROM incident_postmortem WHERE incident_id = $1",
      [id],
    );
    expect(rows[0]).toEqual({ summary: winner.json.postmortem.summary, version: 2 });
  });

  it("rejects bad documents", async () => {
    const id = await addIncident();
    await api("PUT", `/api/v1/incidents/${id}/postmortem`, { body: POSTMORTEM });
    const before = await snapshot();
    const item = POSTMORTEM.followUps[0]!;

    const cases: [unknown, number, string][] = [
      [{ ...POSTMORTEM, version: 1, summary: "x".repeat(20_001) }, 400, "summary"],
      [{ ...POSTMORTEM, version: 1, impact: "a\u0000" }, 400, "impact"],
      [{ ...POSTMORTEM, version: 1, followUps: [{ ...item, description: "" }] }, 400, "followUps[0].description"],
      [{ ...POSTMORTEM, version: 1, followUps: [{ ...item, dueDate: "2026-02-30" }] }, 400, "followUps[0].dueDate"],
      [{ ...POSTMORTEM, version: 1, followUps: [{ ...item, dueDate: "tomorrow" }] }, 400, "followUps[0].dueDate"],
      [{ ...POSTMORTEM, version: 1, followUps: [item, { ...item, ownerId: 424242 }] }, 422, "followUps[1].ownerId"],
      [{ ...POSTMORTEM, version: 1, followUps: [{ ...item, id: 424242 }] }, 422, "followUps[0].id"],
      [{ ...POSTMORTEM, version: 1, followUps: Array.from({ length: 51 }, () => item) }, 400, "followUps"],
      [{ ...POSTMORTEM, version: "1" }, 400, "version"],
      [{ summary: "no version" }, 400, "version"],
      [{ ...POSTMORTEM, version: 1, author: "me" }, 400, "author"],
    ];
    for (const [body, status, field] of cases) {
      const response = await api("PUT", `/api/v1/incidents/${id}/postmortem`, { body });
      expect(response.status, field).toBe(status);
      expect(response.json.error.field, field).toBe(field);
    }
    const missing = await api("PUT", "/api/v1/incidents/424242/postmortem", { body: POSTMORTEM });
    expect(missing.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("rejects editing a version that does not exist", async () => {
    const id = await addIncident();

    const response = await api("PUT", `/api/v1/incidents/${id}/postmortem`, { body: { ...POSTMORTEM, version: 3 } });

    expect(response.status).toBe(409);
    expect(response.json.error.message).toContain("send version null");
  });
});

describe("postmortem Markdown export", () => {
  it("contains facts, sections, follow-ups and timeline", async () => {
    const openedAt = new Date(Date.now() - 90 * 60_000);
    const id = await addIncident({ openedAt, title: "Checkout p99 | latency" });
    await api("POST", `/api/v1/incidents/${id}/acknowledge`, { auth: { user: fixture.alice } });
    await api("POST", `/api/v1/incidents/${id}/notes`, { auth: { user: fixture.alice }, body: { text: "Pool at 5/5" } });
    await api("PATCH", `/api/v1/incidents/${id}`, { body: { severity: "sev2", assigneeId: fixture.alice.id } });
    await api("POST", `/api/v1/incidents/${id}/resolve`, { auth: { user: fixture.bob } });
    const body = structuredClone(POSTMORTEM);
    body.followUps[0]!.ownerId = fixture.alice.id;
    await api("PUT", `/api/v1/incidents/${id}/postmortem`, { auth: { user: fixture.bob }, body });

    const response = await api("GET", `/api/v1/incidents/${id}/postmortem.md`, { auth: { user: fixture.vera } });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="incident-${id}-postmortem.md"`);
    const markdown = response.text;
    const row = await incidentRow(id);
    const utc = (date: Date) => `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    expect(markdown).toContain(`# Postmortem: Checkout p99 \\| latency (incident #${id})`);
    expect(markdown).toContain("| Service | Checkout (`checkout`) |");
    expect(markdown).toContain("| Severity | SEV2 |");
    expect(markdown).toContain(`| Opened | ${utc(openedAt)} |`);
    expect(markdown).toContain(`| Acknowledged | ${utc(row.acknowledged_at)} by Alice |`);
    expect(markdown).toContain(`| Resolved | ${utc(row.resolved_at)} by Bob |`);
    expect(markdown).toMatch(/\| Duration \| 1 h 3\d min \|/);
    expect(markdown).toMatch(/\| Time to acknowledge \(MTTA\) \| 1 h 3\d min \|/);
    expect(markdown).toContain("| Assignee | Alice |");
    expect(markdown).toContain("## Summary\n\nCheckout p99 rose to 4 s for 40 minutes.\n");
    expect(markdown).toContain("## Impact\n\nAbout 3% of payments **timed out**.\n");
    expect(markdown).toContain("## Root cause\n\nA connection pool of 5 after the v42 deploy.\n");
    expect(markdown).toContain("- [ ] Alert on pool saturation (owner: Alice, due 2026-12-20)");
    expect(markdown).toContain("- [x] Load-test pool sizes \\| before deploys (owner: nobody)");
    expect(markdown).toContain("**Alice**: Alice acknowledged the incident");
    expect(markdown).toContain("**Alice**: Pool at 5/5");
    expect(markdown).toContain("**API token oncall-bot (token)**: API token oncall-bot changed the severity from SEV3 to SEV2");
    expect(markdown).not.toContain("wrote the postmortem");
    expect(markdown).toContain("_Postmortem version 1, last saved by Bob at");
  });

  it("exports an incident without postmortem", async () => {
    const id = await addIncident();

    const response = await api("GET", `/api/v1/incidents/${id}/postmortem.md`);

    expect(response.status).toBe(200);
    expect(response.text).toContain("## Root cause\n\n_Not written yet._");
    expect(response.text).toContain("## Follow-up items\n\n_None._");
    expect(response.text).toContain("| Resolved | not resolved |");
    expect(response.text).toContain("still open");
  });

  it("answers 404 for an unknown incident", async () => {
    const response = await api("GET", "/api/v1/incidents/424242/postmortem.md");

    expect(response.status).toBe(404);
    expect(response.json.error.field).toBe("id");
  });
});
