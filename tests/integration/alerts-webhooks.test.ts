import { readFileSync } from "node:fs";

import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { POST as alertmanagerPost } from "@/app/api/v1/alerts/alertmanager/route";
import { POST as grafanaPost } from "@/app/api/v1/alerts/grafana/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { labelSetFingerprint } from "@/lib/ingest/alerts/fingerprint";
import { truncateAll } from "@/tests/support/database";

// The alert webhooks through their exported route handlers against a real
// database: open, join, resolve, re-fire, retries, concurrent deliveries,
// truncated groups and rejected bodies.

const BASE = "http://127.0.0.1/api/v1/alerts";

let token: string;
let tokenId: number;

type Json = Record<string, any>;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(`tests/fixtures/alerts/${name}`, "utf8"));
}

async function send(
  source: "alertmanager" | "grafana",
  body: unknown,
  options: { query?: string; auth?: string | null } = {},
) {
  const handler = source === "alertmanager" ? alertmanagerPost : grafanaPost;
  const auth = options.auth === undefined ? token : options.auth;
  const response = await handler(
    new Request(`${BASE}/${source}${options.query ?? ""}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
      },
      body: JSON.stringify(body),
    }),
  );
  return { response, json: (await response.json()) as Json };
}

/** Reads every row an alert delivery can write, to compare before and after. */
async function snapshot() {
  const pool = getPool();
  const incidents = await pool.query(
    `SELECT id, service_id, title, status, severity, source,
            service_impacting, dedup_key, summary, alert_fingerprint,
            opened_at, resolved_at
       FROM incident ORDER BY id`,
  );
  const events = await pool.query(
    `SELECT id, incident_id, kind, actor_type, actor_id, actor_name, message,
            data
       FROM incident_event ORDER BY id`,
  );
  const services = await pool.query("SELECT id, slug FROM service ORDER BY id");
  const runbooks = await pool.query(
    "SELECT incident_id, runbook_id FROM incident_runbook ORDER BY 1, 2",
  );
  return {
    incidents: incidents.rows,
    events: events.rows,
    services: services.rows,
    runbooks: runbooks.rows,
  };
}

async function eventKinds(incidentId: number): Promise<string[]> {
  const { rows } = await getPool().query<{ kind: string }>(
    "SELECT kind FROM incident_event WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  return rows.map((row) => row.kind);
}

/** A version 4 body with one alert for service checkout. */
function alertmanagerBody(
  alert: Json = {},
  extra: Json = {},
): Json {
  return {
    version: "4",
    status: alert.status ?? "firing",
    receiver: "vigil",
    groupKey: '{}:{alertname="HighLatency"}',
    truncatedAlerts: 0,
    alerts: [
      {
        status: "firing",
        labels: {
          alertname: "HighLatency",
          service: "checkout",
          severity: "critical",
        },
        annotations: { summary: "p99 above 2 s", description: "Slow checkout" },
        startsAt: "2026-12-04T10:00:00.123456789+01:00",
        endsAt: "0001-01-01T00:00:00Z",
        generatorURL: "http://prometheus.example/graph",
        fingerprint: "1111222233334444",
        ...alert,
      },
    ],
    ...extra,
  };
}

function resolvedBody(alert: Json = {}, extra: Json = {}): Json {
  return alertmanagerBody(
    { status: "resolved", endsAt: "2026-12-04T09:30:00Z", ...alert },
    extra,
  );
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token, id: tokenId } = await createApiToken({
    name: "alerts",
    scope: "ingest",
  }));
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/alerts/alertmanager", () => {
  it("opens an incident for a firing alert", async () => {
    const { response, json } = await send("alertmanager", alertmanagerBody());

    expect(response.status).toBe(200);
    expect(json.opened).toBe(1);
    expect(json.alerts).toEqual([
      {
        index: 0,
        status: "firing",
        fingerprint: "1111222233334444",
        service: "checkout",
        outcome: "opened",
        incidentId: expect.any(Number),
      },
    ]);

    const { incidents, events, services } = await snapshot();
    expect(services.map((row) => row.slug)).toEqual(["checkout"]);
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident.id).toBe(json.alerts[0].incidentId);
    expect(incident.title).toBe("HighLatency: p99 above 2 s");
    expect(incident.status).toBe("triggered");
    expect(incident.severity).toBe("sev1");
    expect(incident.source).toBe("alert");
    expect(incident.service_impacting).toBe(true);
    expect(incident.summary).toBe("Slow checkout");
    expect(incident.alert_fingerprint).toBe("1111222233334444");
    // 10:00:00.123456789+01:00 is 09:00:00.123 UTC.
    expect(incident.opened_at).toEqual(new Date("2026-12-04T09:00:00.123Z"));
    expect(incident.resolved_at).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      incident_id: incident.id,
      kind: "opened",
      actor_type: "token",
      actor_id: tokenId,
      actor_name: "API token alerts",
    });
    expect(events[0]!.data.labels).toEqual({
      alertname: "HighLatency",
      service: "checkout",
      severity: "critical",
    });
  });

  it("changes nothing on a retried delivery", async () => {
    const first = await send("alertmanager", alertmanagerBody());
    const before = await snapshot();
    const retry = await send("alertmanager", alertmanagerBody());

    expect(retry.response.status).toBe(200);
    expect(retry.json.joined).toBe(1);
    expect(retry.json.alerts[0].outcome).toBe("joined");
    expect(retry.json.alerts[0].incidentId).toBe(
      first.json.alerts[0].incidentId,
    );
    expect(await snapshot()).toEqual(before);
  });

  it("resolves the incident the alert opened", async () => {
    const opened = await send("alertmanager", alertmanagerBody());
    const incidentId = opened.json.alerts[0].incidentId;
    const { response, json } = await send("alertmanager", resolvedBody());

    expect(response.status).toBe(200);
    expect(json.resolved).toBe(1);
    expect(json.alerts[0]).toMatchObject({ outcome: "resolved", incidentId });
    const { rows } = await getPool().query(
      "SELECT status, resolved_at FROM incident WHERE id = $1",
      [incidentId],
    );
    expect(rows[0]).toEqual({
      status: "resolved",
      resolved_at: new Date("2026-12-04T09:30:00Z"),
    });
    expect(await eventKinds(incidentId)).toEqual(["opened", "resolved"]);

    const before = await snapshot();
    const retry = await send("alertmanager", resolvedBody());
    expect(retry.json.alerts[0]).toMatchObject({
      outcome: "ignored",
      incidentId,
      reason: `incident ${incidentId} is resolved already`,
    });
    expect(await snapshot()).toEqual(before);
  });

  it("opens a new incident when the alert fires again", async () => {
    const first = await send("alertmanager", alertmanagerBody());
    await send("alertmanager", resolvedBody());
    const refired = await send(
      "alertmanager",
      alertmanagerBody({ startsAt: "2026-12-04T09:45:00Z" }),
    );

    expect(refired.json.alerts[0].outcome).toBe("opened");
    const secondId = refired.json.alerts[0].incidentId;
    expect(secondId).not.toBe(first.json.alerts[0].incidentId);
    const { incidents } = await snapshot();
    expect(incidents.map((row) => row.status)).toEqual([
      "resolved",
      "triggered",
    ]);

    // A late retry of the first firing must not reopen anything.
    const late = await send("alertmanager", alertmanagerBody());
    expect(late.json.alerts[0]).toMatchObject({
      outcome: "joined",
      incidentId: secondId,
    });
  });

  it("ignores a late firing of a resolved alert", async () => {
    const first = await send("alertmanager", alertmanagerBody());
    await send("alertmanager", resolvedBody());
    const before = await snapshot();
    const late = await send("alertmanager", alertmanagerBody());

    expect(late.json.alerts[0]).toMatchObject({
      outcome: "ignored",
      incidentId: first.json.alerts[0].incidentId,
    });
    expect(late.json.alerts[0].reason).toMatch(/is resolved already/);
    expect(await snapshot()).toEqual(before);
  });

  it("joins a new startsAt while the incident is open", async () => {
    const first = await send("alertmanager", alertmanagerBody());
    const incidentId = first.json.alerts[0].incidentId;
    const again = alertmanagerBody({ startsAt: "2026-12-04T09:20:00Z" });
    const joined = await send("alertmanager", again);

    expect(joined.json.alerts[0]).toMatchObject({
      outcome: "joined",
      incidentId,
    });
    expect(await eventKinds(incidentId)).toEqual([
      "opened",
      "alert_fired_again",
    ]);
    const before = await snapshot();
    await send("alertmanager", again);
    expect(await snapshot()).toEqual(before);

    // The resolve of the later firing resolves the open incident.
    const resolved = await send(
      "alertmanager",
      resolvedBody({ startsAt: "2026-12-04T09:20:00Z" }),
    );
    expect(resolved.json.alerts[0]).toMatchObject({
      outcome: "resolved",
      incidentId,
    });
  });

  it("ignores a resolve it never saw fire", async () => {
    const { json } = await send("alertmanager", resolvedBody());

    expect(json.ignored).toBe(1);
    expect(json.alerts[0]).toMatchObject({
      outcome: "ignored",
      incidentId: null,
      reason: "no open incident for this alert; Vigil did not see it fire",
    });
    const { incidents, events } = await snapshot();
    expect(incidents).toEqual([]);
    expect(events).toEqual([]);
  });

  it("matches old and new bodies of one alert", async () => {
    // The fixture has no fingerprint, as older Alertmanager bodies do.
    const old = fixture("alertmanager-firing-single-no-fingerprint-tz-offset.json");
    const opened = await send("alertmanager", old);
    expect(opened.json.alerts[0].outcome).toBe("opened");
    expect(opened.json.alerts[0].service).toBe("prometheus24");

    const labels = old.alerts[0].labels;
    const current = structuredClone(old);
    current.alerts[0] = {
      ...current.alerts[0],
      status: "resolved",
      endsAt: "2018-08-03T10:00:00+02:00",
      fingerprint: labelSetFingerprint(labels),
    };
    const resolved = await send("alertmanager", current);

    expect(resolved.json.alerts[0]).toMatchObject({
      outcome: "resolved",
      incidentId: opened.json.alerts[0].incidentId,
    });
    const { incidents } = await snapshot();
    expect(incidents[0]).toMatchObject({
      title: "Test",
      severity: "sev3",
      service_impacting: false,
      opened_at: new Date("2018-08-03T07:52:26.739Z"),
      resolved_at: new Date("2018-08-03T08:00:00Z"),
    });
  });

  it("opens one incident for concurrent duplicates", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => send("alertmanager", alertmanagerBody())),
    );

    for (const { response } of results) expect(response.status).toBe(200);
    const outcomes = results.map(({ json }) => json.alerts[0].outcome).sort();
    expect(outcomes).toEqual([
      "joined",
      "joined",
      "joined",
      "joined",
      "joined",
      "opened",
    ]);
    const ids = new Set(results.map(({ json }) => json.alerts[0].incidentId));
    expect(ids.size).toBe(1);
    const { incidents, events } = await snapshot();
    expect(incidents).toHaveLength(1);
    expect(events.map((row) => row.kind)).toEqual(["opened"]);
  });

  it("joins an open incident the first lookup missed", async () => {
    // A concurrent delivery can commit the incident after the lookup of
    // open incidents and before the lookup by dedup key. Clearing the
    // fingerprint makes the first lookup miss the same way.
    const opened = await send("alertmanager", alertmanagerBody());
    const incidentId = opened.json.alerts[0].incidentId;
    await getPool().query(
      "UPDATE incident SET alert_fingerprint = NULL WHERE id = $1",
      [incidentId],
    );

    const { response, json } = await send("alertmanager", alertmanagerBody());

    expect(response.status).toBe(200);
    expect(json.alerts[0]).toMatchObject({ outcome: "joined", incidentId });
    expect(json.ignored).toBe(0);
  });

  it("opens one incident for concurrent startsAts", async () => {
    const results = await Promise.all(
      ["09:00:00Z", "09:01:00Z", "09:02:00Z", "09:03:00Z"].map((time) =>
        send("alertmanager", alertmanagerBody({ startsAt: `2026-12-04T${time}` })),
      ),
    );

    const outcomes = results.map(({ json }) => json.alerts[0].outcome);
    expect(outcomes.filter((outcome) => outcome === "opened")).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === "joined")).toHaveLength(3);
    const { incidents } = await snapshot();
    expect(incidents).toHaveLength(1);
  });

  it("reports and records truncated alerts", async () => {
    const body = alertmanagerBody({}, { truncatedAlerts: 3 });
    const { response, json } = await send("alertmanager", body);

    expect(response.status).toBe(200);
    expect(json.truncatedAlerts).toBe(3);
    expect(json.warning).toBe(
      "the notification is incomplete: 3 alerts of the group were left out " +
        "by the sender (max_alerts) and were not processed",
    );
    const incidentId = json.alerts[0].incidentId;
    expect(await eventKinds(incidentId)).toEqual([
      "opened",
      "alerts_truncated",
    ]);

    const before = await snapshot();
    await send("alertmanager", body);
    expect(await snapshot()).toEqual(before);
  });

  it("omits the warning when nothing is truncated", async () => {
    const { json } = await send("alertmanager", alertmanagerBody());
    expect(json.truncatedAlerts).toBe(0);
    expect(json).not.toHaveProperty("warning");
  });

  it("stores nothing when one alert is invalid", async () => {
    const body = alertmanagerBody();
    body.alerts.push({ ...body.alerts[0], startsAt: "not a time" });
    const { response, json } = await send("alertmanager", body);

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("alerts[1].startsAt");
    expect(await snapshot()).toEqual({
      incidents: [],
      events: [],
      services: [],
      runbooks: [],
    });
  });

  it("rejects text that JSONB cannot store", async () => {
    const body = alertmanagerBody({
      labels: { alertname: "HighLatency", service: "checkout", "a\u0000b": "1" },
    });
    const { response, json } = await send("alertmanager", body);

    expect(response.status).toBe(400);
    expect(json.error.field).toBe('alerts[0].labels["a\\u0000b"]');
    expect(json.error.message).toMatch(/must not contain NUL characters/);
    expect((await snapshot()).incidents).toEqual([]);
  });

  it("stores nothing when an alert has no service", async () => {
    const body = alertmanagerBody();
    body.alerts.push({
      ...body.alerts[0],
      labels: { alertname: "Orphan" },
      fingerprint: "5555666677778888",
    });
    const { response, json } = await send("alertmanager", body);

    expect(response.status).toBe(400);
    expect(json.error.code).toBe("invalid_field");
    expect(json.error.field).toBe("alerts[1].labels");
    expect(json.error.message).toMatch(/has no service or job label/);
    expect((await snapshot()).services).toEqual([]);
  });

  it("rejects a request without a token", async () => {
    const { response } = await send("alertmanager", alertmanagerBody(), {
      auth: null,
    });
    expect(response.status).toBe(401);
    expect((await snapshot()).incidents).toEqual([]);
  });

  it("uses the token's bound service", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      "INSERT INTO service (slug, name) VALUES ('payments', 'Payments') RETURNING id",
    );
    const bound = await createApiToken({
      name: "payments-alerts",
      scope: "ingest",
      serviceId: rows[0]!.id,
    });
    const { json } = await send("alertmanager", alertmanagerBody(), {
      auth: bound.token,
    });
    expect(json.alerts[0]).toMatchObject({
      service: "payments",
      outcome: "opened",
    });

    const other = await send("alertmanager", alertmanagerBody(), {
      auth: bound.token,
      query: "?service=checkout",
    });
    expect(other.response.status).toBe(403);
    expect(other.json.error.field).toBe("service");

    const fromLabels = await send(
      "alertmanager",
      alertmanagerBody({ labels: { alertname: "X", service: "orders" } }),
      { auth: bound.token },
    );
    expect(fromLabels.json.alerts[0].service).toBe("payments");
    expect((await snapshot()).incidents).toHaveLength(1);
  });

  it("suggests matching runbooks", async () => {
    await getPool().query(
      `INSERT INTO runbook (slug, title, body, services, labels)
       VALUES ('checkout-latency', 'Checkout latency', '# Steps', '{checkout}',
               '{"severity": "critical"}'),
              ('orders-only', 'Orders', '# Steps', '{orders}', '{}')`,
    );
    const { json } = await send("alertmanager", alertmanagerBody());
    const incidentId = json.alerts[0].incidentId;

    const { rows } = await getPool().query(
      `SELECT r.slug, (ir.breakdown->'rules'->>'points')::float8 AS rule_points,
              ir.reason
         FROM incident_runbook ir
         JOIN runbook r ON r.id = ir.runbook_id WHERE ir.incident_id = $1`,
      [incidentId],
    );
    // Service listed (4) plus one label pair (1); text similarity adds to
    // the score, see tests/integration/runbook-ranking.test.ts.
    expect(rows).toEqual([
      {
        slug: "checkout-latency",
        rule_points: 5,
        reason: "service checkout, labels severity=critical",
      },
    ]);
    const events = await getPool().query(
      `SELECT kind, actor_type, actor_name FROM incident_event
        WHERE incident_id = $1 ORDER BY id`,
      [incidentId],
    );
    expect(events.rows).toEqual([
      { kind: "opened", actor_type: "token", actor_name: "API token alerts" },
      {
        kind: "runbooks_suggested",
        actor_type: "token",
        actor_name: "API token alerts",
      },
    ]);
  });
});

describe("POST /api/v1/alerts/grafana", () => {
  it("handles each alert of a mixed group", async () => {
    const body = fixture("grafana-v9-mixed-firing-resolved-valuestring.json");
    const { response, json } = await send("grafana", body, {
      query: "?service=rabbitmq",
    });

    expect(response.status).toBe(200);
    expect(json.alerts.map((alert: Json) => alert.outcome)).toEqual([
      "ignored",
      "ignored",
      "opened",
    ]);
    expect(json).toMatchObject({ opened: 1, ignored: 2, resolved: 0 });
    const { incidents, events } = await snapshot();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      title: "Second webhook test: Testing **another** failing alert",
      alert_fingerprint: "6f9cd313db421ef1",
      opened_at: new Date("2022-06-17T01:03:00.782Z"),
    });
    expect(events[0]!.data.valueString).toMatch(/camo_build_info/);
  });

  it("opens and resolves Grafana alerts", async () => {
    const body = fixture("grafana-docs-firing-two-alerts-values.json");
    const opened = await send("grafana", body, { query: "?service=infra" });
    expect(opened.json.opened).toBe(2);

    const resolved = structuredClone(body);
    resolved.alerts[1].status = "resolved";
    resolved.alerts[1].endsAt = "2021-10-12T10:30:00+02:00";
    const { json } = await send("grafana", resolved, {
      query: "?service=infra",
    });

    expect(json.alerts.map((alert: Json) => alert.outcome)).toEqual([
      "joined",
      "resolved",
    ]);
    // Alerts are stored in fingerprint order: bc97... (CPU) before c6ea...
    const { incidents } = await snapshot();
    expect(incidents.map((row) => [row.title, row.status])).toEqual([
      ["High CPU usage: This alert was triggered for zone eu-1", "resolved"],
      ["High memory usage: This alert was triggered for zone us-1", "triggered"],
    ]);
    expect(incidents[0]!.resolved_at).toEqual(
      new Date("2021-10-12T08:30:00Z"),
    );
  });

  it("rejects Grafana alerts without a service", async () => {
    const body = fixture("grafana-docs-firing-two-alerts-values.json");
    const { response, json } = await send("grafana", body);

    expect(response.status).toBe(400);
    expect(json.error.field).toBe("alerts[0].labels");
    expect((await snapshot()).incidents).toEqual([]);
  });
});
