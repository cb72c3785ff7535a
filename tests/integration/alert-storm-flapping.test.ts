import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as createChannelPost } from "@/app/api/v1/notification-channels/route";
import { POST as createRulePost } from "@/app/api/v1/routing-rules/route";
import { createApiToken } from "@/lib/auth/api-token";
import { getConfig, parseConfig } from "@/lib/config";
import { closeDb, getPool } from "@/lib/db";
import { computeIncidentTimings } from "@/lib/incidents/timings";
import { sendHeldResolve } from "@/lib/ingest/alerts/held-resolve";
import { logger } from "@/lib/logger";
import { runDelivery } from "@/lib/notifications/deliver";
import { deliveryOptions } from "@/lib/notifications/settings";
import { truncateAll } from "@/tests/support/database";
import { startHttpPeer, type HttpPeer } from "@/tests/support/notification-peers";
import { startRouteServer, type RouteServer } from "@/tests/support/route-server";

// Alert storms across many alert rules and flapping alerts, posted over HTTP
// to the Alertmanager webhook route on 127.0.0.1. A storm of one service
// opens at most VIGIL_ALERT_STORM_INCIDENTS (3) incidents whatever the
// alertnames, also from concurrent deliveries. An alert that fires again
// within VIGIL_ALERT_FLAP_WINDOW_MINUTES (10) of its incident resolving
// reopens it, and the channels, a webhook peer here, are sent a bounded
// number of notifications.

const PORTS = { first: 3500, last: 3519 };
const ONSET = Date.parse("2026-12-04T09:00:00Z");
const SECOND = 1000;
const MINUTE = 60 * SECOND;

type Json = Record<string, any>;
type RouteHandler = (request: Request) => Promise<Response>;

let handler: RouteHandler;
let server: RouteServer;
let url: string;
let token: string;
let adminToken: string;
const peers: HttpPeer[] = [];

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
  startsAt?: number;
  endsAt?: number;
};

/** Builds one alert of service checkout; the instance label sets its fingerprint. */
function alert(options: AlertOptions): Json {
  const resolved = options.endsAt !== undefined;
  return {
    status: resolved ? "resolved" : "firing",
    labels: {
      alertname: options.alertname ?? "HighErrorRate",
      service: "checkout",
      severity: "critical",
      instance: `checkout-${options.instance}:9090`,
    },
    annotations: { summary: "checkout is failing" },
    startsAt: new Date(options.startsAt ?? ONSET + options.instance * 100).toISOString(),
    endsAt: resolved ? new Date(options.endsAt!).toISOString() : "0001-01-01T00:00:00Z",
    generatorURL: "http://127.0.0.1:9090/graph",
  };
}

function body(alerts: Json[]): Json {
  return {
    version: "4",
    status: alerts.some((entry) => entry.status === "firing") ? "firing" : "resolved",
    receiver: "vigil",
    groupKey: "{}:{}",
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

/** 500 alerts over 150 alertnames, all starting within one minute. */
function stormAcrossRules(): Json[] {
  return Array.from({ length: 500 }, (_, instance) =>
    alert({ instance, alertname: `Rule${String(instance % 150).padStart(3, "0")}` }),
  );
}

async function incidents() {
  const { rows } = await getPool().query(
    `SELECT id, title, status, severity, opened_at, resolved_at
       FROM incident ORDER BY id`,
  );
  return rows;
}

async function alertCounts(): Promise<Map<number, number>> {
  const { rows } = await getPool().query<{ incident_id: number; alerts: number }>(
    `SELECT incident_id, count(*)::int AS alerts FROM incident_alert
      GROUP BY incident_id ORDER BY incident_id`,
  );
  return new Map(rows.map((row) => [row.incident_id, row.alerts]));
}

async function events(incidentId: number) {
  const { rows } = await getPool().query(
    `SELECT id, kind, actor_name, message, data, created_at FROM incident_event
      WHERE incident_id = $1 ORDER BY id`,
    [incidentId],
  );
  return rows;
}

async function adminPost(handlerPromise: Promise<{ POST: RouteHandler }>, path: string, payload: Json) {
  const { POST } = await handlerPromise;
  const response = await POST(
    new Request(`http://127.0.0.1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify(payload),
    }),
  );
  const json = (await response.json()) as Json;
  expect(response.status, JSON.stringify(json)).toBe(201);
  return json;
}

/** Routes every incident to a webhook channel whose receiver is a peer on 127.0.0.1. */
async function webhookPeer(): Promise<HttpPeer> {
  const peer = await startHttpPeer("ok");
  peers.push(peer);
  const created = await adminPost(
    Promise.resolve({ POST: createChannelPost as RouteHandler }),
    "/api/v1/notification-channels",
    { name: "ops hook", type: "webhook", config: { url: peer.url } },
  );
  await adminPost(
    Promise.resolve({ POST: createRulePost as RouteHandler }),
    "/api/v1/routing-rules",
    { channelId: created.channel.id },
  );
  return peer;
}

/** Sends every pending delivery the way the notify-incident job does. */
async function drainDeliveries(): Promise<void> {
  const { rows } = await getPool().query<{ id: number }>(
    "SELECT id FROM notification_delivery WHERE status = 'pending' ORDER BY id",
  );
  for (const row of rows) {
    const client = await getPool().connect();
    try {
      await runDelivery(client, row.id, deliveryOptions(getConfig()), logger);
    } finally {
      client.release();
    }
  }
}

/** The event of each notification the peer received, in order. */
function receivedEvents(peer: HttpPeer): string[] {
  return peer.requests.map((request) => JSON.parse(request.body).event);
}

/** Fires then resolves one alert `cycles` times, one cycle a minute, each lasting `firingMs`. */
async function flap(cycles: number, firingMs = 20 * SECOND): Promise<Json[]> {
  const results: Json[] = [];
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    const startsAt = ONSET + cycle * MINUTE;
    results.push((await post(body([alert({ instance: 1, startsAt })]))).json);
    await drainDeliveries();
    results.push(
      (await post(body([alert({ instance: 1, startsAt, endsAt: startsAt + firingMs })]))).json,
    );
    await drainDeliveries();
  }
  return results;
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
  ({ token: adminToken } = await createApiToken({ name: "admin-bot", scope: "admin" }));
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

describe("alert storm across rules", () => {
  it("opens three incidents for one body", async () => {
    const { status, json } = await post(body(stormAcrossRules()));

    expect(status).toBe(200);
    expect(json.opened).toBe(3);
    expect(json.joined).toBe(497);
    const rows = await incidents();
    expect(rows).toHaveLength(3);
    const counts = await alertCounts();
    expect([...counts.values()].reduce((sum, count) => sum + count, 0)).toBe(500);

    const storms = rows.filter((row) => row.title.startsWith("Alert storm: "));
    expect(storms).toHaveLength(1);
    const storm = storms[0]!;
    // The storm incident is the newest of the three and lists the alerts
    // of the 147 other alertnames.
    expect(storm.id).toBe(Math.max(...rows.map((row) => row.id)));
    const { rows: names } = await getPool().query<{ names: number }>(
      "SELECT count(DISTINCT alertname)::int AS names FROM incident_alert WHERE incident_id = $1",
      [storm.id],
    );
    expect(names[0]!.names).toBe(148);
    const joined = (await events(storm.id)).filter(
      (event) => event.kind === "alerts_joined" && event.data.storm === true,
    );
    expect(joined).toHaveLength(1);
    expect(joined[0].message).toMatch(
      /^Alert storm: \d+ more alertmanager alerts of other groups joined \(.+ and \d+ more\), because the service has 3 open alert incidents opened within 10 min; the incident lists \d+ alerts$/,
    );
  });

  it("opens three incidents for concurrent deliveries", async () => {
    const results = await Promise.all(
      stormAcrossRules().map((entry) => post(body([entry]))),
    );

    expect(results.map((result) => result.status)).toEqual(results.map(() => 200));
    const outcomes = results.map((result) => result.json.alerts[0].outcome);
    expect(outcomes.filter((outcome) => outcome === "opened")).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === "joined")).toHaveLength(497);
    expect(await incidents()).toHaveLength(3);
    const counts = await alertCounts();
    expect([...counts.values()].reduce((sum, count) => sum + count, 0)).toBe(500);
  });

  it("resolves the incidents with their alerts", async () => {
    const firing = stormAcrossRules();
    await post(body(firing));
    const ended = firing.map((entry, instance) =>
      alert({
        instance,
        alertname: entry.labels.alertname,
        endsAt: ONSET + 30 * MINUTE + instance * SECOND,
      }),
    );

    const half = await post(body(ended.slice(0, 250)));
    const open = (await incidents()).filter((row) => row.status !== "resolved");
    const rest = await post(body(ended.slice(250)));

    expect(half.json.resolved).toBe(250);
    expect(open.length).toBeGreaterThan(0);
    expect(rest.json.resolved).toBe(250);
    const rows = await incidents();
    expect(rows.map((row) => row.status)).toEqual(["resolved", "resolved", "resolved"]);
    const latest = new Date(ONSET + 30 * MINUTE + 499 * SECOND);
    expect(rows.some((row) => row.resolved_at.getTime() === latest.getTime())).toBe(true);
  });

  it("caps at the configured count", async () => {
    vi.stubEnv("VIGIL_ALERT_STORM_INCIDENTS", "5");
    vi.resetModules();
    handler = await loadHandler();
    try {
      const { json } = await post(body(stormAcrossRules()));

      expect(json.opened).toBe(5);
      expect(await incidents()).toHaveLength(5);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
      handler = await loadHandler();
    }
  });

  it("opens new incidents after the window", async () => {
    await post(body(stormAcrossRules()));

    const later = ONSET + 11 * MINUTE;
    const { json } = await post(
      body([
        alert({ instance: 1000, alertname: "DiskFull", startsAt: later }),
        alert({ instance: 1001, alertname: "OutOfMemory", startsAt: later }),
      ]),
    );

    expect(json.opened).toBe(2);
    expect(await incidents()).toHaveLength(5);
  });
});

describe("flapping alert", () => {
  it("reopens one incident with bounded notifications", async () => {
    const peer = await webhookPeer();

    const results = await flap(6);

    const outcomes = results.map((result) => result.alerts[0].outcome);
    expect(outcomes).toEqual([
      "opened",
      "resolved",
      ...Array.from({ length: 5 }, () => ["reopened", "resolved"]).flat(),
    ]);
    const rows = await incidents();
    expect(rows).toHaveLength(1);
    expect(rows[0].status).toBe("resolved");
    // One opened, the first resolve and the first reopen. The later cycles
    // each lasted 20 s, less than the flap window, so the channels still
    // show the incident firing and are sent no more.
    expect(receivedEvents(peer)).toEqual([
      "incident.opened",
      "incident.resolved",
      "incident.reopened",
    ]);

    const timeline = await events(rows[0].id);
    const reopens = timeline.filter((event) => event.kind === "reopened");
    expect(reopens).toHaveLength(5);
    expect(reopens[0].message).toBe(
      "Alert HighErrorRate fired again 1 minute after resolving, within the " +
        "10 min flap window, so the incident reopened.",
    );
    expect(reopens[0].actor_name).toBe("API token alertmanager");
    expect(reopens[0].data).toMatchObject({
      flapping: true,
      minutesAfterResolving: 1,
      notificationHeld: false,
      previous: { resolvedAt: new Date(ONSET + 20 * SECOND).toISOString() },
    });
    expect(reopens.slice(1).map((event) => event.data.notificationHeld)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const resolves = timeline.filter((event) => event.kind === "resolved");
    expect(resolves.map((event) => event.data.notificationHeld ?? false)).toEqual([
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it("sends the held resolve once the alert stops flapping", async () => {
    const peer = await webhookPeer();
    await flap(3);
    const [incident] = await incidents();
    const heldJobs = async () => {
      const { rows } = await getPool().query<{ payload: Json; run_at: Date }>(
        "SELECT payload, run_at FROM graphile_worker._private_jobs WHERE key = $1",
        [`held-resolve:${incident.id}`],
      );
      return rows;
    };
    const resolves = (await events(incident.id)).filter((event) => event.kind === "resolved");
    // One keyed job, for the latest held resolve, due one flap window later.
    const jobs = await heldJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.payload).toEqual({ incidentId: incident.id, resolvedEventId: resolves.at(-1)!.id });
    expect(jobs[0]!.run_at.getTime() - Date.now()).toBeGreaterThan(9 * MINUTE);

    // A job for an earlier resolve sends nothing.
    const client = await getPool().connect();
    try {
      const stale = { incidentId: incident.id, resolvedEventId: resolves.at(-2)!.id };
      expect(await sendHeldResolve(client, stale, logger)).toBe(false);
      expect(await sendHeldResolve(client, jobs[0]!.payload as never, logger)).toBe(true);
      // Run twice, it sends once.
      expect(await sendHeldResolve(client, jobs[0]!.payload as never, logger)).toBe(false);
    } finally {
      client.release();
    }
    await drainDeliveries();
    expect(receivedEvents(peer)).toEqual([
      "incident.opened",
      "incident.resolved",
      "incident.reopened",
      "incident.resolved",
    ]);

    // The channels saw the resolve, so the next flap's reopen is sent.
    await post(body([alert({ instance: 1, startsAt: ONSET + 3 * MINUTE })]));
    await drainDeliveries();
    expect(receivedEvents(peer).at(-1)).toBe("incident.reopened");
  });

  it("does not send a held resolve after a reopen", async () => {
    const peer = await webhookPeer();
    await flap(3);
    const [incident] = await incidents();
    const resolves = (await events(incident.id)).filter((event) => event.kind === "resolved");
    const payload = { incidentId: incident.id, resolvedEventId: resolves.at(-1)!.id };
    await post(body([alert({ instance: 1, startsAt: ONSET + 3 * MINUTE })]));

    const client = await getPool().connect();
    try {
      expect(await sendHeldResolve(client, payload, logger)).toBe(false);
    } finally {
      client.release();
    }
    await drainDeliveries();
    expect(receivedEvents(peer)).toEqual(["incident.opened", "incident.resolved", "incident.reopened"]);
  });

  it("counts each reopen as a cycle", async () => {
    await flap(3);
    const [incident] = await incidents();

    const timeline = await events(incident.id);
    const timings = computeIncidentTimings(
      { status: incident.status, openedAt: incident.opened_at, resolvedAt: incident.resolved_at },
      timeline.map((event) => ({
        kind: event.kind,
        createdAt: event.created_at,
        actorName: event.actor_name,
      })),
    );

    expect(timings.reopenCount).toBe(2);
    expect(timings.cycles.map((cycle) => cycle.trigger)).toEqual([
      "opened",
      "reopened",
      "reopened",
    ]);
    expect(incident.resolved_at).toEqual(new Date(ONSET + 2 * MINUTE + 20 * SECOND));
  });

  it("notifies a resolve after a long cycle", async () => {
    const peer = await webhookPeer();
    await flap(1);
    const startsAt = ONSET + MINUTE;
    await post(body([alert({ instance: 1, startsAt })]));
    await post(body([alert({ instance: 1, startsAt, endsAt: startsAt + 30 * MINUTE })]));
    await drainDeliveries();

    expect(receivedEvents(peer)).toEqual([
      "incident.opened",
      "incident.resolved",
      "incident.reopened",
      "incident.resolved",
    ]);
  });

  it("notifies a reopen after a sent resolve", async () => {
    const peer = await webhookPeer();
    // Two long cycles: each resolve was sent, so each reopen is too.
    for (let cycle = 0; cycle < 2; cycle += 1) {
      const startsAt = ONSET + cycle * 15 * MINUTE;
      await post(body([alert({ instance: 1, startsAt })]));
      await post(body([alert({ instance: 1, startsAt, endsAt: startsAt + 12 * MINUTE })]));
    }
    await post(body([alert({ instance: 1, startsAt: ONSET + 30 * MINUTE })]));
    await drainDeliveries();

    expect(await incidents()).toHaveLength(1);
    expect(receivedEvents(peer)).toEqual([
      "incident.opened",
      "incident.resolved",
      "incident.reopened",
      "incident.resolved",
      "incident.reopened",
    ]);
  });

  it("opens a new incident after the window", async () => {
    await post(body([alert({ instance: 1, startsAt: ONSET })]));
    await post(body([alert({ instance: 1, startsAt: ONSET, endsAt: ONSET + MINUTE })]));

    const { json } = await post(body([alert({ instance: 1, startsAt: ONSET + 11 * MINUTE })]));

    expect(json.alerts[0].outcome).toBe("opened");
    expect(await incidents()).toHaveLength(2);
  });

  it("keeps a retried resolve ignored", async () => {
    await flap(2);
    const before = await events((await incidents())[0].id);

    const startsAt = ONSET + MINUTE;
    const { json } = await post(
      body([alert({ instance: 1, startsAt, endsAt: startsAt + 20 * SECOND })]),
    );

    expect(json.alerts[0].outcome).toBe("ignored");
    expect(await events((await incidents())[0].id)).toEqual(before);
  });

  it("ignores an older firing", async () => {
    await post(body([alert({ instance: 1, startsAt: ONSET + MINUTE })]));
    await post(
      body([alert({ instance: 1, startsAt: ONSET + MINUTE, endsAt: ONSET + 2 * MINUTE })]),
    );

    const { json } = await post(body([alert({ instance: 1, startsAt: ONSET })]));

    // Reopening for a firing older than the one the incident lists would
    // leave it with no alert to resolve it, so it opens its own incident.
    expect(json.alerts[0].outcome).toBe("opened");
    const rows = await incidents();
    expect(rows.map((row) => row.status)).toEqual(["resolved", "triggered"]);
  });

  it("opens a new incident when reopening is off", async () => {
    vi.stubEnv("VIGIL_ALERT_FLAP_WINDOW_MINUTES", "0");
    vi.resetModules();
    handler = await loadHandler();
    try {
      const results = await flap(3);

      expect(results.filter((result) => result.opened === 1)).toHaveLength(3);
      expect(await incidents()).toHaveLength(3);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
      handler = await loadHandler();
    }
  });
});

describe("storm and flap settings", () => {
  it("rejects invalid values", () => {
    const parse = (values: Record<string, string>) =>
      parseConfig(values as NodeJS.ProcessEnv);

    expect(parse({}).VIGIL_ALERT_STORM_INCIDENTS).toBe(3);
    expect(parse({}).VIGIL_ALERT_FLAP_WINDOW_MINUTES).toBe(10);
    expect(parse({ VIGIL_ALERT_STORM_INCIDENTS: "0" }).VIGIL_ALERT_STORM_INCIDENTS).toBe(0);
    expect(() => parse({ VIGIL_ALERT_STORM_INCIDENTS: "-1" })).toThrow(
      /VIGIL_ALERT_STORM_INCIDENTS: /,
    );
    expect(() => parse({ VIGIL_ALERT_STORM_INCIDENTS: "2.5" })).toThrow(
      /VIGIL_ALERT_STORM_INCIDENTS: /,
    );
    expect(() => parse({ VIGIL_ALERT_FLAP_WINDOW_MINUTES: "1441" })).toThrow(
      /VIGIL_ALERT_FLAP_WINDOW_MINUTES: /,
    );
    expect(() => parse({ VIGIL_ALERT_FLAP_WINDOW_MINUTES: "ten" })).toThrow(
      /VIGIL_ALERT_FLAP_WINDOW_MINUTES: /,
    );
  });
});
