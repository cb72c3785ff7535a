import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import * as alertmanagerRoute from "@/app/api/v1/alerts/alertmanager/route";
import * as incidentRoute from "@/app/api/v1/incidents/[id]/route";
import * as serviceRoute from "@/app/api/v1/services/[slug]/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { recordEpisode, type SeriesContext } from "@/lib/incidents/detector";
import { truncateAll } from "@/tests/support/database";
import { startRouteServer, type RouteServer } from "@/tests/support/route-server";

// GET /api/v1/incidents/{id} over real HTTP lists the correlated series of a
// grouped detector incident, the alerts of a grouped alert incident and the
// suspect deployments before the onset.

const PORT = 3221;
const ONSET = Date.parse("2026-03-01T10:00:00Z");
const MINUTE = 60_000;

type Json = Record<string, any>;

let server: RouteServer;
let token: string;
let serviceId: number;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

async function addSeries(name: string): Promise<SeriesContext> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, '{"region":"eu"}', '{"region":"eu"}') RETURNING id`,
    [serviceId, name],
  );
  return {
    seriesId: rows[0]!.id,
    serviceId,
    serviceSlug: "checkout",
    serviceName: "Checkout",
    metricName: name,
    labels: { region: "eu" },
  };
}

async function record(series: SeriesContext, onset: number, score: number) {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    const point = {
      ts: new Date(onset),
      value: 90,
      score,
      likelihood: 0.99,
      isAnomaly: true,
      expectedLow: 10,
      expectedHigh: 40,
    };
    const outcome = await recordEpisode(client, series, {
      continuesPrevious: false,
      onset: point,
      peak: point,
    });
    await client.query("COMMIT");
    return outcome;
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  server = await startRouteServer(
    [
      {
        method: "GET",
        pattern: /^\/api\/v1\/incidents\/(?<id>[^/]+)$/,
        handler: incidentRoute.GET,
      },
      {
        method: "PUT",
        pattern: /^\/api\/v1\/services\/(?<slug>[^/]+)$/,
        handler: serviceRoute.PUT as never,
      },
      {
        method: "POST",
        pattern: /^\/api\/v1\/alerts\/alertmanager$/,
        handler: alertmanagerRoute.POST as never,
      },
    ],
    PORT,
  );
});

afterAll(async () => {
  await server?.close();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout') RETURNING id",
  );
  serviceId = rows[0]!.id;
  ({ token } = await createApiToken({ name: "oncall-bot", scope: "admin" }));
});

describe("GET /api/v1/incidents/{id} correlation", () => {
  it("lists series and suspects", async () => {
    await getPool().query(
      `INSERT INTO deployment (service_id, version, status, commit_sha, deployed_at)
       VALUES ($1, 'v1.2.3', 'success', 'abc1234def', $2),
              ($1, 'v1.2.2', 'success', NULL, $3)`,
      [serviceId, new Date(ONSET - 7 * MINUTE), new Date(ONSET - 2 * 60 * MINUTE)],
    );
    const cpu = await addSeries("cpu_utilization");
    const latency = await addSeries("p99_latency_ms");
    const opened = await record(cpu, ONSET, 1.6);
    await record(latency, ONSET + 3 * MINUTE, 2.6);
    const incidentId = (opened as { incidentId: number }).incidentId;

    const { status, json } = await api("GET", `/api/v1/incidents/${incidentId}`);

    expect(status).toBe(200);
    const incident = json.incident;
    expect(incident.correlatedSeries).toHaveLength(2);
    expect(incident.correlatedSeries[1]).toMatchObject({
      seriesId: latency.seriesId,
      metricName: "p99_latency_ms",
      labels: { region: "eu" },
      onsetAt: new Date(ONSET + 3 * MINUTE).toISOString(),
      peakScore: 2.6,
      recoveredAt: null,
    });
    expect(incident.groupedAlerts).toEqual([]);
    expect(incident.suspectDeployments).toEqual([
      {
        deploymentId: expect.any(Number),
        version: "v1.2.3",
        environment: "production",
        status: "success",
        commitSha: "abc1234def",
        description: null,
        deployedAt: new Date(ONSET - 7 * MINUTE).toISOString(),
        gapMinutes: 7,
      },
    ]);
    const kinds = incident.timeline.map((event: Json) => event.kind);
    expect(kinds).toContain("deployment_suspects");
    expect(kinds).toContain("series_joined");
  });

  it("lists the alerts of a storm", async () => {
    const alerts = Array.from({ length: 12 }, (_, instance) => ({
      status: "firing",
      labels: {
        alertname: "HighErrorRate",
        service: "checkout",
        instance: `checkout-${instance}`,
      },
      annotations: {},
      startsAt: new Date(ONSET + instance * 1000).toISOString(),
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "",
    }));
    const posted = await api("POST", "/api/v1/alerts/alertmanager", {
      version: "4",
      status: "firing",
      receiver: "vigil",
      groupKey: "{}",
      truncatedAlerts: 0,
      alerts,
    });
    const incidentId = posted.json.alerts[0].incidentId;

    const { json } = await api("GET", `/api/v1/incidents/${incidentId}`);

    expect(posted.json.opened).toBe(1);
    expect(json.incident.groupedAlerts).toHaveLength(12);
    expect(json.incident.groupedAlerts[0]).toMatchObject({
      alertname: "HighErrorRate",
      resolved: false,
      endsAt: null,
      startsAt: new Date(ONSET).toISOString(),
    });
    expect(json.incident.correlatedSeries).toEqual([]);
  });

  it("sets a service's grouping window", async () => {
    const updated = await api("PUT", "/api/v1/services/checkout", {
      groupingWindowMinutes: 45,
    });
    const cleared = await api("PUT", "/api/v1/services/checkout", {
      groupingWindowMinutes: null,
    });

    expect(updated.status).toBe(200);
    expect(updated.json.service.groupingWindowMinutes).toBe(45);
    expect(cleared.json.service.groupingWindowMinutes).toBeNull();
  });

  it("rejects an invalid grouping window", async () => {
    for (const value of [-1, 1441, 2.5, "10"]) {
      const { status, json } = await api("PUT", "/api/v1/services/checkout", {
        groupingWindowMinutes: value,
      });

      expect(status, String(value)).toBe(400);
      expect(json.error.field).toBe("groupingWindowMinutes");
    }
    const { rows } = await getPool().query(
      "SELECT grouping_window_minutes FROM service WHERE slug = 'checkout'",
    );
    expect(rows[0].grouping_window_minutes).toBeNull();
  });
});
