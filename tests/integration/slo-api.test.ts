import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const { SESSION_SECRET } = vi.hoisted(() => {
  const secret = "slo-api-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return { SESSION_SECRET: secret };
});

import * as sloRoute from "@/app/api/v1/slos/route";
import * as sloIdRoute from "@/app/api/v1/slos/[id]/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import { evaluateSlo } from "@/lib/slo/evaluate";
import { truncateAll } from "@/tests/support/database";

// The /api/v1/slos routes called as Next.js calls them: validation that
// names the field, 404, 409 and 422, and who may read and write.

type Handler = (
  request: Request,
  context?: { params?: Promise<Record<string, string>> },
) => Promise<Response>;

let adminToken: string;
let ingestToken: string;
let viewerCookie: string;

type Call = { status: number; body: Record<string, any> };

async function call(
  handler: Handler,
  method: string,
  options: { id?: string; body?: unknown; auth?: Record<string, string>; query?: string } = {},
): Promise<Call> {
  const path = `/api/v1/slos${options.id ? `/${options.id}` : ""}${options.query ?? ""}`;
  const headers: Record<string, string> = options.auth ?? { authorization: `Bearer ${adminToken}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await handler(
    new Request(`http://127.0.0.1${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    { params: Promise.resolve<Record<string, string>>(options.id ? { id: options.id } : {}) },
  );
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const post = (body: unknown, auth?: Record<string, string>) =>
  call(sloRoute.POST as Handler, "POST", { body, auth });

const availability = {
  service: "checkout",
  name: "requests succeed",
  kind: "availability",
  availabilitySource: "requests",
  target: 0.999,
  windowDays: 30,
};

beforeAll(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  await getPool().query(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ('checkout', 'Checkout', 'requests', 'errors'), ('search', 'Search', NULL, NULL)`,
  );
  adminToken = (await createApiToken({ name: "slo admin", scope: "admin" })).token;
  ingestToken = (await createApiToken({ name: "slo ingest", scope: "ingest" })).token;
  const viewer = await getPrisma().user.create({
    data: { email: "viewer@slo.test", name: "Viewer", role: "viewer", passwordHash: "not-a-hash" },
  });
  const jwt = await encode({ token: { userId: viewer.id, sub: String(viewer.id) }, secret: SESSION_SECRET });
  viewerCookie = `next-auth.session-token=${jwt}`;
});

afterAll(async () => {
  await closeDb();
});

describe("SLO API", () => {
  it("creates an SLO with default burn settings", async () => {
    const created = await post(availability);
    expect(created.status).toBe(201);
    const slo = created.body.slo;
    expect(slo.service.slug).toBe("checkout");
    expect(slo.fastBurnRate).toBe(14.4);
    expect(slo.fastLongMinutes).toBe(60);
    expect(slo.fastShortMinutes).toBe(5);
    expect(slo.slowBurnRate).toBe(6);
    expect(slo.slowLongMinutes).toBe(360);
    expect(slo.slowShortMinutes).toBe(30);
    expect(slo.status.state).toBe("no_data");
    expect(slo.status.attainment).toBeNull();
  });

  it("rejects invalid fields by name", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...availability, target: 1 }, "target"],
      [{ ...availability, target: 99.9 }, "target"],
      [{ ...availability, windowDays: 0 }, "windowDays"],
      [{ ...availability, windowDays: 400 }, "windowDays"],
      [{ ...availability, kind: "throughput" }, "kind"],
      [{ ...availability, availabilitySource: null }, "availabilitySource"],
      [{ ...availability, latencyThreshold: 200 }, "latencyThreshold"],
      [{ ...availability, kind: "latency", availabilitySource: null, latencyThreshold: 200 }, "latencyMetric"],
      [{ ...availability, fastShortMinutes: 60 }, "fastShortMinutes"],
      [{ ...availability, windowDays: 1, slowLongMinutes: 2000 }, "slowLongMinutes"],
      [{ ...availability, fastBurnRate: 0 }, "fastBurnRate"],
      [{ ...availability, service: "Not A Slug" }, "service"],
      [{ ...availability, name: "" }, "name"],
      [{ ...availability, color: "red" }, "color"],
      [{ ...availability, target: 1e-300 }, "target"],
      [{ ...availability, target: 0.49 }, "target"],
      [{ ...availability, target: 0.9999999999999999 }, "target"],
      [{ ...availability, target: 0.999991 }, "target"],
      [{ ...availability, fastBurnRate: 1e-300 }, "fastBurnRate"],
      [{ ...availability, fastBurnRate: 0.99 }, "fastBurnRate"],
      [{ ...availability, fastBurnRate: 1001 }, "fastBurnRate"],
      [{ ...availability, slowBurnRate: 0.5 }, "slowBurnRate"],
      [{ ...availability, slowBurnRate: 1e308 }, "slowBurnRate"],
      // At 90 % the burn rate is at most 10, so the default 14.4 never fires.
      [{ ...availability, target: 0.9 }, "fastBurnRate"],
      [{ ...availability, target: 0.9, fastBurnRate: 9, slowBurnRate: 10 }, "slowBurnRate"],
      [{ ...availability, fastLongMinutes: 0 }, "fastLongMinutes"],
      [{ ...availability, fastShortMinutes: 1.5 }, "fastShortMinutes"],
      [{ ...availability, windowDays: 7, slowLongMinutes: 10081 }, "slowLongMinutes"],
      [{ ...availability, name: "a\ud800" }, "name"],
      [{ ...availability, name: "b\udc00c" }, "name"],
      [{ ...availability, name: "x\u001bname" }, "name"],
      [{ ...availability, name: "x\r\nBcc: y" }, "name"],
      [{ ...availability, name: "x\u0085y" }, "name"],
      [{ ...availability, name: "x\u007fy" }, "name"],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.field, JSON.stringify(body)).toBe(field);
    }
    const list = await call(sloRoute.GET as Handler, "GET");
    expect(list.body.slos).toEqual([]);
  });

  it("accepts the edges of the bounds", async () => {
    const lowest = await post({ ...availability, name: "lowest", target: 0.5, fastBurnRate: 1, slowBurnRate: 1 });
    expect(lowest.status).toBe(201);
    const highest = await post({ ...availability, name: "highest", target: 0.99999, fastBurnRate: 1000 });
    expect(highest.status).toBe(201);
    const emoji = await post({ ...availability, name: "checkout \ud83d\ude80 succeeds" });
    expect(emoji.status).toBe(201);
    expect(emoji.body.slo.name).toBe("checkout \u{1F680} succeeds");
  });

  it("names the field of a bad PATCH", async () => {
    const id = String((await post(availability)).body.slo.id);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ target: 1e-300 }, "target"],
      [{ fastBurnRate: 0.5 }, "fastBurnRate"],
      [{ name: "a\ud800" }, "name"],
      [{ target: 0.9 }, "fastBurnRate"],
    ];
    for (const [body, field] of cases) {
      const response = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.field, JSON.stringify(body)).toBe(field);
    }
    const read = await call(sloIdRoute.GET as Handler, "GET", { id });
    expect(read.body.slo.target).toBe(0.999);
    expect(read.body.slo.fastBurnRate).toBe(14.4);
  });

  it("rejects unknown services and missing metrics", async () => {
    const unknown = await post({ ...availability, service: "nowhere" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.code).toBe("unknown_service");
    expect(unknown.body.error.field).toBe("service");
    expect(unknown.body.error.message).toContain('service "nowhere" not found');
    const movedNowhere = await call(sloIdRoute.PATCH as Handler, "PATCH", {
      id: String((await post({ ...availability, name: "moves" })).body.slo.id),
      body: { service: "nowhere" },
    });
    expect(movedNowhere.status).toBe(422);
    expect(movedNowhere.body.error.field).toBe("service");
    const noMetrics = await post({ ...availability, service: "search" });
    expect(noMetrics.status).toBe(422);
    expect(noMetrics.body.error.field).toBe("availabilitySource");
    const fromIncidents = await post({ ...availability, service: "search", availabilitySource: "incidents" });
    expect(fromIncidents.status).toBe(201);
  });

  it("rejects a duplicate name with 409", async () => {
    expect((await post(availability)).status).toBe(201);
    const duplicate = await post(availability);
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.field).toBe("name");
  });

  it("reads, patches and deletes an SLO", async () => {
    const id = String((await post(availability)).body.slo.id);
    const read = await call(sloIdRoute.GET as Handler, "GET", { id });
    expect(read.status).toBe(200);
    expect(read.body.slo.name).toBe("requests succeed");

    const patched = await call(sloIdRoute.PATCH as Handler, "PATCH", {
      id,
      body: { target: 0.995, fastBurnRate: 10 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.slo.target).toBe(0.995);
    expect(patched.body.slo.fastBurnRate).toBe(10);
    expect(patched.body.slo.windowDays).toBe(30);

    const toLatency = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body: { kind: "latency" } });
    expect(toLatency.status).toBe(400);
    expect(toLatency.body.error.field).toBe("availabilitySource");
    const empty = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body: {} });
    expect(empty.status).toBe(400);

    const deleted = await call(sloIdRoute.DELETE as Handler, "DELETE", { id });
    expect(deleted.status).toBe(200);
    const afterDelete = await call(sloIdRoute.GET as Handler, "GET", { id });
    expect(afterDelete.status).toBe(404);
    expect((await call(sloIdRoute.DELETE as Handler, "DELETE", { id })).status).toBe(404);
    expect((await call(sloIdRoute.GET as Handler, "GET", { id: "abc" })).status).toBe(400);
  });

  it("lets viewers and ingest tokens read only", async () => {
    expect((await post(availability)).status).toBe(201);
    const viewer = { cookie: viewerCookie };
    const listed = await call(sloRoute.GET as Handler, "GET", { auth: viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.slos).toHaveLength(1);
    const byIngest = await call(sloRoute.GET as Handler, "GET", {
      auth: { authorization: `Bearer ${ingestToken}` },
    });
    expect(byIngest.status).toBe(200);
    expect((await post({ ...availability, name: "other" }, viewer)).status).toBe(403);
    expect(
      (await post({ ...availability, name: "other" }, { authorization: `Bearer ${ingestToken}` })).status,
    ).toBe(403);
    expect((await call(sloRoute.GET as Handler, "GET", { auth: {} })).status).toBe(401);
  });

  it("shows a bound token its service only", async () => {
    expect((await post(availability)).status).toBe(201);
    const other = await post({ ...availability, service: "search", availabilitySource: "incidents" });
    const { rows } = await getPool().query<{ id: number }>("SELECT id FROM service WHERE slug = 'checkout'");
    const bound = (await createApiToken({ name: "bound", scope: "ingest", serviceId: rows[0]!.id })).token;
    const auth = { authorization: `Bearer ${bound}` };
    const listed = await call(sloRoute.GET as Handler, "GET", { auth });
    expect(listed.body.slos.map((slo: { service: { slug: string } }) => slo.service.slug)).toEqual(["checkout"]);
    const filtered = await call(sloRoute.GET as Handler, "GET", { auth, query: "?service=search" });
    expect(filtered.body.slos).toEqual([]);
    const hidden = await call(sloIdRoute.GET as Handler, "GET", { auth, id: String(other.body.slo.id) });
    expect(hidden.status).toBe(404);
  });
});

describe("SLO API during a burn", () => {
  const MINUTE_MS = 60_000;

  /** Adds an hour of 1000 requests a minute, half of them failed, for a service's series, ending now. */
  async function addFailingHour(slug: string): Promise<void> {
    const pool = getPool();
    const { rows } = await pool.query<{ id: number }>("SELECT id FROM service WHERE slug = $1", [slug]);
    const series = await pool.query<{ id: number; name: string }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'requests', '{}', '{}'), ($1, 'errors', '{}', '{}') RETURNING id, name`,
      [rows[0]!.id],
    );
    const times = Array.from({ length: 60 }, (_, minute) => new Date(Date.now() - (minute + 1) * MINUTE_MS));
    for (const { id, name } of series.rows) {
      await pool.query(
        "INSERT INTO data_point (series_id, ts, value) SELECT $1::int, ts, $3::float8 FROM unnest($2::timestamptz[]) AS ts",
        [id, times, name === "requests" ? 1000 : 500],
      );
    }
  }

  /** Creates an SLO of checkout and evaluates it into a fast burn; returns its id and incident id. */
  async function burningSlo(): Promise<{ id: string; incidentId: number }> {
    await addFailingHour("checkout");
    const id = String((await post(availability)).body.slo.id);
    const client = await getPool().connect();
    try {
      const result = await evaluateSlo(client, Number(id));
      if (result.outcome !== "opened") throw new Error(`expected opened, got ${result.outcome}`);
      return { id, incidentId: result.incidentId };
    } finally {
      client.release();
    }
  }

  async function incident(incidentId: number) {
    const { rows } = await getPool().query<{ status: string; resolved_at: Date | null }>(
      "SELECT status::text AS status, resolved_at FROM incident WHERE id = $1",
      [incidentId],
    );
    return rows[0]!;
  }

  async function lastEvent(incidentId: number) {
    const { rows } = await getPool().query<{ kind: string; message: string; actor_name: string }>(
      "SELECT kind, message, actor_name FROM incident_event WHERE incident_id = $1 ORDER BY id DESC LIMIT 1",
      [incidentId],
    );
    return rows[0]!;
  }

  beforeEach(async () => {
    await getPool().query(
      `INSERT INTO service (slug, name, request_metric, error_metric)
       VALUES ('payments', 'Payments', 'requests', 'errors')`,
    );
  });

  it("resolves the incident on delete", async () => {
    const { id, incidentId } = await burningSlo();
    expect((await incident(incidentId)).status).toBe("triggered");

    const deleted = await call(sloIdRoute.DELETE as Handler, "DELETE", { id });
    expect(deleted.status).toBe(200);
    const after = await incident(incidentId);
    expect(after.status).toBe("resolved");
    expect(after.resolved_at).not.toBeNull();
    const event = await lastEvent(incidentId);
    expect(event.kind).toBe("resolved");
    expect(event.message).toContain("API token slo admin deleted SLO requests succeed during its fast burn");
    expect(event.actor_name).toBe("API token slo admin");
    const { rows } = await getPool().query("SELECT id FROM slo_burn");
    expect(rows).toEqual([]);
  });

  it("ends the burn when the service moves", async () => {
    const { id, incidentId } = await burningSlo();
    const moved = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body: { service: "payments" } });
    expect(moved.status).toBe(200);
    expect(moved.body.slo.service.slug).toBe("payments");
    expect(moved.body.slo.burningSince).toBeNull();
    expect((await incident(incidentId)).status).toBe("resolved");
    const event = await lastEvent(incidentId);
    expect(event.kind).toBe("resolved");
    expect(event.message).toContain('service from "checkout" to "payments"');
    expect(event.message).not.toContain("stopped");
    const read = await call(sloIdRoute.GET as Handler, "GET", { id });
    expect(read.body.slo.burns[0].endedAt).not.toBeNull();
  });

  it("ends the burn when the kind changes", async () => {
    const { id, incidentId } = await burningSlo();
    const changed = await call(sloIdRoute.PATCH as Handler, "PATCH", {
      id,
      body: { kind: "latency", availabilitySource: null, latencyMetric: "latency_ms", latencyThreshold: 250 },
    });
    expect(changed.status).toBe(200);
    expect((await incident(incidentId)).status).toBe("resolved");
    const event = await lastEvent(incidentId);
    expect(event.message).toContain('kind from "availability" to "latency"');
    expect(event.message).toContain('latencyMetric from null to "latency_ms"');
  });

  it("keeps the burn for a new target", async () => {
    const { id, incidentId } = await burningSlo();
    const patched = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body: { target: 0.995, name: "renamed" } });
    expect(patched.status).toBe(200);
    expect(patched.body.slo.burningSince).not.toBeNull();
    expect((await incident(incidentId)).status).toBe("triggered");
  });

  it("writes nothing on a rejected move", async () => {
    const { id, incidentId } = await burningSlo();
    const taken = await post({ ...availability, service: "payments" });
    expect(taken.status).toBe(201);
    const moved = await call(sloIdRoute.PATCH as Handler, "PATCH", { id, body: { service: "payments" } });
    expect(moved.status).toBe(409);
    expect(moved.body.error.field).toBe("name");
    expect((await incident(incidentId)).status).toBe("triggered");
    const read = await call(sloIdRoute.GET as Handler, "GET", { id });
    expect(read.body.slo.service.slug).toBe("checkout");
    expect(read.body.slo.burningSince).not.toBeNull();
    expect(read.body.slo.burns[0].endedAt).toBeNull();
  });
});
