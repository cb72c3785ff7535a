import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as alertmanagerPost } from "@/app/api/v1/alerts/alertmanager/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb } from "@/lib/db";
import { recordEpisode, type SeriesContext } from "@/lib/incidents/detector";
import {
  describeGap,
  findSuspectDeployments,
} from "@/lib/incidents/suspects";
import { truncateAll } from "@/tests/support/database";

// Deployments of an incident's service shortly before its onset, against the
// real database: the lookback window (60 minutes by default), their order,
// the gap in minutes, and the one timeline event written when a detector or
// alert incident opens.

const ONSET = Date.parse("2026-03-01T10:00:00Z");
const MINUTE = 60_000;

let db: pg.Client;
let checkoutId: number;
let searchId: number;
let series: SeriesContext;

async function deploy(
  serviceId: number,
  version: string,
  minutesBeforeOnset: number,
  extra: { status?: string; commitSha?: string } = {},
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO deployment (service_id, version, status, commit_sha, deployed_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [
      serviceId,
      version,
      extra.status ?? "success",
      extra.commitSha ?? null,
      new Date(ONSET - minutesBeforeOnset * MINUTE),
    ],
  );
  return rows[0]!.id;
}

async function openDetectorIncident(onset = ONSET): Promise<number> {
  const point = {
    ts: new Date(onset),
    value: 97.5,
    score: 2,
    likelihood: 0.99,
    isAnomaly: true,
    expectedLow: 10,
    expectedHigh: 40,
  };
  await db.query("BEGIN");
  const outcome = await recordEpisode(db, series, {
    continuesPrevious: false,
    onset: point,
    peak: point,
  });
  await db.query("COMMIT");
  expect(outcome.outcome).toBe("opened");
  return (outcome as { incidentId: number }).incidentId;
}

async function suspectEvents(incidentId: number) {
  const { rows } = await db.query<{
    message: string;
    actor_type: string;
    actor_name: string;
    data: { lookbackMinutes: number; deployments: Array<Record<string, unknown>> };
  }>(
    `SELECT message, actor_type, actor_name, data FROM incident_event
      WHERE incident_id = $1 AND kind = 'deployment_suspects' ORDER BY id`,
    [incidentId],
  );
  return rows;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const services = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout'), ('search', 'Search')
     RETURNING id`,
  );
  [checkoutId, searchId] = services.rows.map((row) => row.id) as [number, number];
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'http_5xx_count', '{}', '{}') RETURNING id`,
    [checkoutId],
  );
  series = {
    seriesId: created.rows[0]!.id,
    serviceId: checkoutId,
    serviceSlug: "checkout",
    serviceName: "Checkout",
    metricName: "http_5xx_count",
    labels: {},
  };
});

describe("findSuspectDeployments", () => {
  it("lists recent deployments newest first", async () => {
    await deploy(checkoutId, "v1.2.0", 61);
    const older = await deploy(checkoutId, "v1.2.2", 60, { status: "failure" });
    const newest = await deploy(checkoutId, "v1.2.3", 7, { commitSha: "abc1234" });
    await deploy(checkoutId, "v1.2.4", -3);
    await deploy(searchId, "v9.0.0", 5);
    const incidentId = await openDetectorIncident();

    const suspects = await findSuspectDeployments(db, incidentId);

    expect(suspects.map((suspect) => suspect.deploymentId)).toEqual([newest, older]);
    expect(suspects[0]).toMatchObject({
      version: "v1.2.3",
      status: "success",
      commitSha: "abc1234",
      environment: "production",
      serviceSlug: "checkout",
      gapMinutes: 7,
      deployedAt: new Date(ONSET - 7 * MINUTE),
    });
    expect(suspects[1]).toMatchObject({ version: "v1.2.2", status: "failure", gapMinutes: 60 });
  });

  it("takes the lookback as argument", async () => {
    await deploy(checkoutId, "v1.2.2", 45);
    await deploy(checkoutId, "v1.2.3", 7);
    const incidentId = await openDetectorIncident();

    const suspects = await findSuspectDeployments(db, incidentId, 30);

    expect(suspects.map((suspect) => suspect.version)).toEqual(["v1.2.3"]);
  });

  it("returns nothing for an unknown incident", async () => {
    expect(await findSuspectDeployments(db, 999_999)).toEqual([]);
  });

  it("formats gaps in minutes", () => {
    expect(describeGap(0)).toBe("less than a minute before onset");
    expect(describeGap(1)).toBe("1 minute before onset");
    expect(describeGap(7)).toBe("7 minutes before onset");
  });
});

describe("suspects in the timeline", () => {
  it("records suspects when a detector incident opens", async () => {
    await deploy(checkoutId, "v1.2.2", 48, { status: "failure" });
    await deploy(checkoutId, "v1.2.3", 7);

    const incidentId = await openDetectorIncident();

    const [event, ...others] = await suspectEvents(incidentId);
    expect(others).toEqual([]);
    expect(event!.message).toBe(
      "Suspect: Deployment v1.2.3 of Checkout 7 minutes before onset, and 1 " +
        "earlier deployment in the 60 minutes before onset",
    );
    expect(event!.actor_type).toBe("worker");
    expect(event!.actor_name).toBe("anomaly detector");
    expect(event!.data.lookbackMinutes).toBe(60);
    expect(event!.data.deployments.map((deployment) => deployment.version)).toEqual([
      "v1.2.3",
      "v1.2.2",
    ]);
  });

  it("names a failed newest deployment", async () => {
    await deploy(checkoutId, "v1.2.3", 12, { status: "failure" });

    const incidentId = await openDetectorIncident();

    const [event] = await suspectEvents(incidentId);
    expect(event!.message).toBe(
      "Suspect: Deployment v1.2.3 (failure) of Checkout 12 minutes before onset",
    );
  });

  it("writes no event without suspects", async () => {
    await deploy(checkoutId, "v1.2.3", 90);

    const incidentId = await openDetectorIncident();

    expect(await suspectEvents(incidentId)).toEqual([]);
  });

  it("records suspects when an alert incident opens", async () => {
    await deploy(checkoutId, "v1.2.3", 7);
    const { token } = await createApiToken({ name: "alerts", scope: "ingest" });
    const body = {
      version: "4",
      status: "firing",
      receiver: "vigil",
      groupKey: "{}",
      truncatedAlerts: 0,
      alerts: [
        {
          status: "firing",
          labels: { alertname: "HighErrorRate", service: "checkout" },
          annotations: {},
          startsAt: new Date(ONSET).toISOString(),
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "",
          fingerprint: "aaaabbbbccccdddd",
        },
      ],
    };
    const send = () =>
      alertmanagerPost(
        new Request("http://127.0.0.1/api/v1/alerts/alertmanager", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${token}`,
          },
          body: JSON.stringify(body),
        }),
      );

    const response = await send();
    const json = await response.json();
    await send();

    expect(response.status).toBe(200);
    const events = await suspectEvents(json.alerts[0].incidentId);
    expect(events).toHaveLength(1);
    expect(events[0]!.message).toBe(
      "Suspect: Deployment v1.2.3 of Checkout 7 minutes before onset",
    );
    expect(events[0]!.actor_type).toBe("token");
    expect(events[0]!.actor_name).toBe("API token alerts");
  });
});

describe("VIGIL_SUSPECT_LOOKBACK_MINUTES", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("parses with 60 as default", async () => {
    const { parseConfig } = await import("@/lib/config");
    const parse = (value?: string) =>
      parseConfig(
        (value === undefined ? {} : { VIGIL_SUSPECT_LOOKBACK_MINUTES: value }) as NodeJS.ProcessEnv,
      ).VIGIL_SUSPECT_LOOKBACK_MINUTES;

    expect(parse()).toBe(60);
    expect(parse("240")).toBe(240);
    for (const invalid of ["0", "-5", "1.5", "10081", "an hour"]) {
      expect(() => parse(invalid), invalid).toThrow(/VIGIL_SUSPECT_LOOKBACK_MINUTES/);
    }
  });

  it("widens the lookback when set", async () => {
    vi.stubEnv("VIGIL_SUSPECT_LOOKBACK_MINUTES", "120");
    vi.resetModules();
    const suspects = await import("@/lib/incidents/suspects");
    await deploy(checkoutId, "v1.2.2", 100);
    const incidentId = await openDetectorIncident();

    const found = await suspects.findSuspectDeployments(db, incidentId);

    expect(found.map((suspect) => suspect.version)).toEqual(["v1.2.2"]);
  });
});
