import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";
import { startRouteServer, type RouteServer } from "@/tests/support/route-server";

// Alert storms posted over HTTP to the Alertmanager webhook route, served on
// 127.0.0.1. Alerts of one service with the same alertname that start within
// the grouping window (10 minutes by default) open one incident that lists
// them, also when they arrive in 100 concurrent deliveries. The incident
// resolves when the last of them resolves.

const PORTS = { first: 3220, last: 3239 };
const ONSET = Date.parse("2026-12-04T09:00:00Z");
const MINUTE = 60_000;

type Json = Record<string, any>;
type RouteHandler = (request: Request) => Promise<Response>;

let handler: RouteHandler;
let server: RouteServer;
let url: string;
let token: string;

async function loadHandler(): Promise<RouteHandler> {
  const route = await import("@/app/api/v1/alerts/alertmanager/route");
  return route.POST as RouteHandler;
}

/** Serves the current `handler` on the first free port of PORTS. */
async function startServer(): Promise<void> {
  for (let port = PORTS.first; port <= PORTS.last; port += 1) {
    try {
      server = await startRouteServer(
        [
          {
            method: "POST",
            pattern: /^\/api\/v1\/alerts\/alertmanager$/,
            handler: (request) => handler(request),
          },
        ],
        port,
      );
      url = `${server.baseUrl}/api/v1/alerts/alertmanager`;
      return;
    } catch {
      // The port is taken; try the next one.
    }
  }
  throw new Error(`no free port in ${PORTS.first}-${PORTS.last}`);
}

type AlertOptions = {
  instance: number;
  alertname?: string;
  service?: string;
  severity?: string;
  cluster?: string;
  startsAt?: number;
  endsAt?: number;
};

/** Builds one alert, whose instance label makes its fingerprint distinct. */
function alert(options: AlertOptions): Json {
  const resolved = options.endsAt !== undefined;
  return {
    status: resolved ? "resolved" : "firing",
    labels: {
      alertname: options.alertname ?? "HighErrorRate",
      service: options.service ?? "checkout",
      severity: options.severity ?? "warning",
      instance: `checkout-${options.instance}:9090`,
      ...(options.cluster ? { cluster: options.cluster } : {}),
    },
    annotations: { summary: "5xx above 5 %" },
    startsAt: new Date(options.startsAt ?? ONSET + options.instance * 1000).toISOString(),
    endsAt: resolved ? new Date(options.endsAt!).toISOString() : "0001-01-01T00:00:00Z",
    generatorURL: "http://prometheus.example/graph",
  };
}

function body(alerts: Json[]): Json {
  return {
    version: "4",
    status: alerts.some((entry) => entry.status === "firing") ? "firing" : "resolved",
    receiver: "vigil",
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    alerts,
  };
}

async function post(payload: Json): Promise<{ status: number; json: Json }> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(payload),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

const storm = (count: number, options: Partial<AlertOptions> = {}) =>
  Array.from({ length: count }, (_, instance) => alert({ instance, ...options }));

async function incidents() {
  const { rows } = await getPool().query(
    `SELECT id, title, status, severity, service_impacting, opened_at, resolved_at
       FROM incident ORDER BY id`,
  );
  return rows;
}

async function members(incidentId: number) {
  const { rows } = await getPool().query(
    `SELECT fingerprint, alertname, resolved, ends_at FROM incident_alert
      WHERE incident_id = $1 ORDER BY fingerprint`,
    [incidentId],
  );
  return rows;
}

async function events(incidentId: number) {
  const { rows } = await getPool().query(
    "SELECT kind, message, data FROM incident_event WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  return rows;
}

async function snapshot() {
  const pool = getPool();
  return {
    incidents: (await pool.query("SELECT * FROM incident ORDER BY id")).rows,
    alerts: (await pool.query("SELECT * FROM incident_alert ORDER BY 1, 2")).rows,
    events: (await pool.query("SELECT * FROM incident_event ORDER BY id")).rows,
  };
}

beforeAll(async () => {
  handler = await loadHandler();
  await startServer();
});

afterAll(async () => {
  await server.close();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "alertmanager", scope: "ingest" }));
});

describe("alert storm", () => {
  it("opens one incident for 100 alerts", async () => {
    const { status, json } = await post(body(storm(100)));

    expect(status).toBe(200);
    expect(json.opened).toBe(1);
    expect(json.joined).toBe(99);
    const ids = new Set(json.alerts.map((entry: Json) => entry.incidentId));
    expect(ids.size).toBe(1);
    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(incident.title).toBe("HighErrorRate: 5xx above 5 %");
    expect(incident.opened_at).toEqual(new Date(ONSET));
    const listed = await members(incident.id);
    expect(listed).toHaveLength(100);
    expect(new Set(listed.map((row) => row.fingerprint)).size).toBe(100);

    const timeline = await events(incident.id);
    expect(timeline.map((event) => event.kind)).toEqual(["opened", "alerts_joined"]);
    expect(timeline[1].message).toMatch(
      /^99 more alertmanager alerts of the same group joined \(HighErrorRate\), starting within 10 min of the onset; the incident lists 100 alerts$/,
    );
    expect(timeline[1].data.alerts).toHaveLength(99);
  });

  it("changes nothing on a retried storm", async () => {
    await post(body(storm(100)));
    const before = await snapshot();

    const { json } = await post(body(storm(100)));

    expect(json.joined).toBe(100);
    expect(json.opened).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it("opens one incident for concurrent deliveries", async () => {
    const results = await Promise.all(
      storm(100).map((entry) => post(body([entry]))),
    );

    expect(results.every((result) => result.status === 200)).toBe(true);
    const outcomes = results.map((result) => result.json.alerts[0].outcome);
    expect(outcomes.filter((outcome) => outcome === "opened")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "joined")).toHaveLength(99);
    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(await members(incident.id)).toHaveLength(100);
  });

  it("resolves when every alert has resolved", async () => {
    await post(body(storm(100)));
    const [{ id: incidentId }] = await incidents();
    const ended = (instance: number) =>
      alert({ instance, endsAt: ONSET + 30 * MINUTE + instance * 1000 });

    const first = await post(body(Array.from({ length: 60 }, (_, i) => ended(i))));
    const partly = await incidents();
    const rest = await post(
      body(Array.from({ length: 40 }, (_, i) => ended(60 + i))),
    );

    expect(first.json.resolved).toBe(60);
    expect(partly[0].status).toBe("triggered");
    expect(rest.json.resolved).toBe(40);
    const [incident] = await incidents();
    expect(incident.status).toBe("resolved");
    expect(incident.resolved_at).toEqual(new Date(ONSET + 30 * MINUTE + 99_000));
    const timeline = await events(incidentId);
    expect(timeline.map((event) => event.kind)).toEqual([
      "opened",
      "alerts_joined",
      "alerts_resolved",
      "resolved",
    ]);
    expect(timeline[2].message).toMatch(
      /^60 alertmanager alerts of the incident ended \(HighErrorRate\); 40 of 100 still fire, so the incident stays open$/,
    );
    expect(timeline[3].message).toMatch(/All 100 alerts of the incident have ended\.$/);
    expect(timeline[3].data.endedWith).toHaveLength(39);

    const retry = await post(body([ended(5)]));
    expect(retry.json.alerts[0]).toMatchObject({
      outcome: "ignored",
      incidentId,
      reason: `incident ${incidentId} is resolved already`,
    });
  });

  it("ignores a repeated resolve while others fire", async () => {
    await post(body(storm(3)));
    const [{ id: incidentId }] = await incidents();
    const ended = alert({ instance: 1, endsAt: ONSET + 20 * MINUTE });
    await post(body([ended]));
    const before = await snapshot();

    const again = await post(body([ended]));

    expect(again.json.alerts[0]).toMatchObject({
      outcome: "ignored",
      incidentId,
    });
    expect(again.json.alerts[0].reason).toMatch(/is resolved already in incident/);
    expect(await snapshot()).toEqual(before);
  });

  it("keeps other alertnames and services apart", async () => {
    const { json } = await post(
      body([
        alert({ instance: 1 }),
        alert({ instance: 2, alertname: "HighLatency" }),
        alert({ instance: 3, service: "search" }),
        alert({ instance: 4 }),
      ]),
    );

    expect(json.opened).toBe(3);
    expect(json.joined).toBe(1);
    expect(await incidents()).toHaveLength(3);
  });

  it("opens a new incident after the window", async () => {
    await post(body([alert({ instance: 1, startsAt: ONSET })]));
    const { json } = await post(
      body([
        alert({ instance: 2, startsAt: ONSET + 10 * MINUTE }),
        alert({ instance: 3, startsAt: ONSET + 10 * MINUTE + 1000 }),
      ]),
    );

    expect(json.alerts.map((entry: Json) => entry.outcome)).toEqual([
      "joined",
      "opened",
    ]);
    expect(await incidents()).toHaveLength(2);
  });

  it("uses the service's own window", async () => {
    await post(body([alert({ instance: 1, startsAt: ONSET })]));
    await getPool().query(
      "UPDATE service SET grouping_window_minutes = 60 WHERE slug = 'checkout'",
    );

    const { json } = await post(
      body([alert({ instance: 2, startsAt: ONSET + 45 * MINUTE })]),
    );

    expect(json.joined).toBe(1);
    const timeline = await events(json.alerts[0].incidentId);
    expect(timeline.at(-1).message).toMatch(/starting within 60 min of the onset/);
  });

  it("raises severity with a critical member", async () => {
    await post(body([alert({ instance: 1 })]));
    const before = await incidents();

    await post(body([alert({ instance: 2, severity: "critical" })]));

    expect(before[0].severity).toBe("sev3");
    expect(before[0].service_impacting).toBe(false);
    const [incident] = await incidents();
    expect(incident.severity).toBe("sev1");
    expect(incident.service_impacting).toBe(true);
  });
});

describe("VIGIL_ALERT_GROUP_LABELS", () => {
  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.resetModules();
    handler = await loadHandler();
  });

  it("groups by the listed labels", async () => {
    vi.stubEnv("VIGIL_ALERT_GROUP_LABELS", "alertname, cluster");
    vi.resetModules();
    handler = await loadHandler();

    const { json } = await post(
      body([
        alert({ instance: 1, cluster: "eu-1" }),
        alert({ instance: 2, cluster: "eu-1" }),
        alert({ instance: 3, cluster: "us-1" }),
      ]),
    );

    expect(json.opened).toBe(2);
    expect(json.joined).toBe(1);
  });

  it("empty groups by fingerprint only", async () => {
    vi.stubEnv("VIGIL_ALERT_GROUP_LABELS", "");
    // Without the storm cap, which joins them after three incidents.
    vi.stubEnv("VIGIL_ALERT_STORM_INCIDENTS", "0");
    vi.resetModules();
    handler = await loadHandler();

    const { json } = await post(body(storm(5)));

    expect(json.opened).toBe(5);
  });

  it("rejects an invalid label name", async () => {
    const { parseConfig } = await import("@/lib/config");
    const parse = (values: Record<string, string>) =>
      parseConfig(values as NodeJS.ProcessEnv).VIGIL_ALERT_GROUP_LABELS;

    expect(() => parse({ VIGIL_ALERT_GROUP_LABELS: "alertname,not-a-label" })).toThrow(
      /VIGIL_ALERT_GROUP_LABELS: must be comma-separated label names/,
    );
    expect(parse({})).toEqual(["alertname"]);
    expect(parse({ VIGIL_ALERT_GROUP_LABELS: " alertname , cluster " })).toEqual([
      "alertname",
      "cluster",
    ]);
    expect(parse({ VIGIL_ALERT_GROUP_LABELS: "" })).toEqual([]);
  });
});
