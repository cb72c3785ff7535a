import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import { getKpis, getKpiTrend, KPI_NULL_REASONS } from "@/lib/kpi";
import { truncateAll } from "@/tests/support/database";

// Hand-built incidents, deployments and counter points over one week,
// [2026-11-01T00:00Z, 2026-11-08T00:00Z) = 604,800 s = 168 h. Expected
// values are worked out in the comments next to each assertion.

const FROM = new Date("2026-11-01T00:00:00Z");
const TO = new Date("2026-11-08T00:00:00Z");
const HOUR = 3600;

let serviceA: number;
let serviceB: number;
let serviceC: number;
let dedup = 0;

async function addService(
  slug: string,
  requestMetric: string | null = null,
  errorMetric: string | null = null,
) {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ($1, $1, $2, $3) RETURNING id`,
    [slug, requestMetric, errorMetric],
  );
  return rows[0]!.id;
}

async function addIncident(
  serviceId: number,
  openedAt: string,
  resolvedAt: string | null,
  serviceImpacting = true,
) {
  dedup += 1;
  await getPool().query(
    `INSERT INTO incident (service_id, title, status, source,
       service_impacting, dedup_key, opened_at, resolved_at)
     VALUES ($1, 'test incident', $2, 'manual', $3, $4, $5, $6)`,
    [
      serviceId,
      resolvedAt === null ? "triggered" : "resolved",
      serviceImpacting,
      `kpi-test-${dedup}`,
      openedAt,
      resolvedAt,
    ],
  );
}

async function addDeployment(serviceId: number, deployedAt: string) {
  await getPool().query(
    `INSERT INTO deployment (service_id, version, deployed_at)
     VALUES ($1, 'v1', $2)`,
    [serviceId, deployedAt],
  );
}

async function addPoints(
  serviceId: number,
  name: string,
  labels: Record<string, string>,
  points: Array<[string, number]>,
) {
  const key = JSON.stringify(labels);
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, $3::jsonb, $3) RETURNING id`,
    [serviceId, name, key],
  );
  for (const [ts, value] of points) {
    await getPool().query(
      "INSERT INTO data_point (series_id, ts, value) VALUES ($1, $2, $3)",
      [rows[0]!.id, ts, value],
    );
  }
}

async function seedWeek() {
  serviceA = await addService("alpha", "http_requests", "http_errors");
  serviceB = await addService("bravo", "http_requests");
  serviceC = await addService("charlie");

  // Service A, service-impacting downtime clipped to the range:
  //   A1 11-02 00:00-06:00 and A2 11-02 03:00-09:00 overlap: union 9 h
  //   A3 10-31 22:00-11-01 02:00 straddles the start: 2 h inside
  //   A4 11-07 20:00, still open: counts until the end, 4 h
  //   A6 11-07 23:00-11-08 01:00 lies inside A4's span: adds 0 h
  //   A5 11-03 00:00-10:00 is not service-impacting: adds 0 h
  // Downtime A = 9 + 2 + 4 = 15 h.
  await addIncident(serviceA, "2026-11-02T00:00:00Z", "2026-11-02T06:00:00Z");
  await addIncident(serviceA, "2026-11-02T03:00:00Z", "2026-11-02T09:00:00Z");
  await addIncident(serviceA, "2026-10-31T22:00:00Z", "2026-11-01T02:00:00Z");
  await addIncident(serviceA, "2026-11-07T20:00:00Z", null);
  await addIncident(
    serviceA,
    "2026-11-03T00:00:00Z",
    "2026-11-03T10:00:00Z",
    false,
  );
  await addIncident(serviceA, "2026-11-07T23:00:00Z", "2026-11-08T01:00:00Z");
  // Service B: B1 11-04 00:00-12:00, downtime 12 h. Service C: none.
  await addIncident(serviceB, "2026-11-04T00:00:00Z", "2026-11-04T12:00:00Z");

  // Deployments: 4 in the range (one exactly at `from`), one before it
  // and one exactly at `to`, which the half-open range excludes.
  await addDeployment(serviceA, "2026-11-01T00:00:00Z");
  await addDeployment(serviceA, "2026-11-02T10:00:00Z");
  await addDeployment(serviceA, "2026-11-05T10:00:00Z");
  await addDeployment(serviceB, "2026-11-06T10:00:00Z");
  await addDeployment(serviceA, "2026-10-31T10:00:00Z");
  await addDeployment(serviceB, "2026-11-08T00:00:00Z");

  // Counters of A: requests 100 + 200 (route /a) + 300 (route /b) = 600
  // and errors 6 + 12 = 18 in the range; the points before the range and
  // at `to` are outside it. B names only a request metric, so it is left
  // out of the error rate; its points must not count.
  await addPoints(serviceA, "http_requests", { route: "/a" }, [
    ["2026-10-31T12:00:00Z", 1000],
    ["2026-11-01T12:00:00Z", 100],
    ["2026-11-02T12:00:00Z", 200],
    ["2026-11-08T00:00:00Z", 5000],
  ]);
  await addPoints(serviceA, "http_requests", { route: "/b" }, [
    ["2026-11-02T13:00:00Z", 300],
  ]);
  await addPoints(serviceA, "http_errors", { route: "/a" }, [
    ["2026-10-31T12:00:00Z", 500],
    ["2026-11-01T12:00:00Z", 6],
    ["2026-11-02T12:00:00Z", 12],
  ]);
  await addPoints(serviceB, "http_requests", {}, [
    ["2026-11-02T12:00:00Z", 7000],
  ]);
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  dedup = 0;
});

afterAll(async () => {
  await closeDb();
});

describe("getKpis", () => {
  it("computes every KPI over all services", async () => {
    await seedWeek();
    const kpis = await getKpis({ from: FROM, to: TO });

    // Uptime: A 1 - 15/168, B 1 - 12/168, C 1; mean = 1 - 27/504.
    expect(kpis.uptime.value).toBeCloseTo(1 - 27 / 504, 10);
    expect(kpis.uptime.unit).toBe("ratio");
    // Service-impacting incidents overlapping the range: A1-A4, A6, B1.
    expect(kpis.uptime.sampleSize).toBe(6);

    // MTTR over incidents resolved in the range: A1 6 h, A2 6 h, A3 4 h,
    // A5 10 h, B1 12 h = 38 h / 5 = 27,360 s. A6 resolves after `to`.
    expect(kpis.mttr.value).toBeCloseTo(27_360, 6);
    expect(kpis.mttr.sampleSize).toBe(5);

    // Opened in the range: A1, A2, A4, A5, A6, B1 = 6 in one week.
    expect(kpis.incidentFrequency.value).toBeCloseTo(6, 10);
    expect(kpis.incidentFrequency.sampleSize).toBe(6);

    // 4 deployments in 7 days.
    expect(kpis.deploymentFrequency.value).toBeCloseTo(4 / 7, 10);
    expect(kpis.deploymentFrequency.sampleSize).toBe(4);

    // 18 errors / 600 requests.
    expect(kpis.errorRate.value).toBeCloseTo(0.03, 10);
    expect(kpis.errorRate.sampleSize).toBe(600);
  });

  it("limits every KPI to the selected services", async () => {
    await seedWeek();
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceB] });

    expect(kpis.uptime.value).toBeCloseTo(1 - 12 / 168, 10);
    expect(kpis.mttr.value).toBeCloseTo(12 * HOUR, 6);
    expect(kpis.incidentFrequency.value).toBeCloseTo(1, 10);
    expect(kpis.deploymentFrequency.value).toBeCloseTo(1 / 7, 10);
    expect(kpis.errorRate.value).toBeNull();
    expect(kpis.errorRate.reason).toBe(KPI_NULL_REASONS.noErrorRateMetrics);
  });

  it("reports 0 as a value for a quiet service", async () => {
    await seedWeek();
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceC] });

    expect(kpis.uptime.value).toBe(1);
    expect(kpis.incidentFrequency.value).toBe(0);
    expect(kpis.incidentFrequency.reason).toBeUndefined();
    expect(kpis.deploymentFrequency.value).toBe(0);
    expect(kpis.mttr.value).toBeNull();
    expect(kpis.mttr.reason).toBe(KPI_NULL_REASONS.noResolvedIncident);
  });

  it("returns null with a reason without services", async () => {
    const kpis = await getKpis({ from: FROM, to: TO });

    for (const kpi of Object.values(kpis)) {
      expect(kpi.value).toBeNull();
      expect(kpi.reason).toBe(KPI_NULL_REASONS.noServices);
      expect(kpi.sampleSize).toBe(0);
    }
  });

  it("returns null with a reason for an empty selection", async () => {
    await seedWeek();
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [] });

    expect(kpis.uptime.value).toBeNull();
    expect(kpis.uptime.reason).toBe(KPI_NULL_REASONS.noServices);
  });

  it("sums huge counter values without overflow", async () => {
    const id = await addService("huge", "requests", "errors");
    // Three points near float8's maximum (about 1.8e308) overflow a float8
    // sum. Errors are half of requests, so the rate is 0.5.
    const requests: Array<[string, number]> = [
      ["2026-11-02T00:00:00Z", 1.7e308],
      ["2026-11-02T00:05:00Z", 1.7e308],
      ["2026-11-02T00:10:00Z", 1.7e308],
    ];
    await addPoints(id, "requests", {}, requests);
    await addPoints(
      id,
      "errors",
      {},
      requests.map(([ts, value]) => [ts, value / 2]),
    );

    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [id] });

    expect(kpis.errorRate.value).toBeCloseTo(0.5, 10);
    expect(Number.isFinite(kpis.errorRate.sampleSize)).toBe(true);
  });

  it("returns null error rate without requests", async () => {
    await seedWeek();
    const kpis = await getKpis({
      from: new Date("2026-10-01T00:00:00Z"),
      to: new Date("2026-10-02T00:00:00Z"),
    });

    expect(kpis.errorRate.value).toBeNull();
    expect(kpis.errorRate.reason).toBe(KPI_NULL_REASONS.noRequests);
    expect(kpis.mttr.value).toBeNull();
    expect(kpis.uptime.value).toBe(1);
  });

  it("rejects a range that ends before it starts", async () => {
    await expect(getKpis({ from: TO, to: FROM })).rejects.toThrow(RangeError);
    await expect(getKpis({ from: FROM, to: FROM })).rejects.toThrow(
      /must end after it starts/,
    );
  });
});

describe("getKpiTrend", () => {
  it("computes every KPI per day", async () => {
    await seedWeek();
    const days = await getKpiTrend({ from: FROM, to: TO }, 7);

    expect(days).toHaveLength(7);
    expect(days[0]!.start.toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(days[6]!.end.toISOString()).toBe("2026-11-08T00:00:00.000Z");

    const [day1, day2, day3, , , , day7] = days.map((day) => day.kpis);
    // 11-01: A3 is open 00:00-02:00, so A loses 2 h of 24; mean over 3
    // services = 1 - 2/72. A3 resolves this day after 4 h.
    expect(day1!.uptime.value).toBeCloseTo(1 - 2 / 72, 10);
    expect(day1!.mttr.value).toBeCloseTo(4 * HOUR, 6);
    expect(day1!.deploymentFrequency.value).toBeCloseTo(1, 10);
    expect(day1!.errorRate.value).toBeCloseTo(6 / 100, 10);

    // 11-02: A1 and A2 overlap into 9 h of downtime, and each resolves
    // after 6 h. Two incidents in one day are 14 per week. The error rate
    // is 12 / (200 + 300).
    expect(day2!.uptime.value).toBeCloseTo(1 - 9 / 72, 10);
    expect(day2!.mttr.value).toBeCloseTo(6 * HOUR, 6);
    expect(day2!.incidentFrequency.value).toBeCloseTo(14, 10);
    expect(day2!.errorRate.value).toBeCloseTo(12 / 500, 10);

    // 11-03: only the non-impacting A5 (10 h), and no counter points.
    expect(day3!.uptime.value).toBe(1);
    expect(day3!.mttr.value).toBeCloseTo(10 * HOUR, 6);
    expect(day3!.errorRate.value).toBeNull();
    expect(day3!.errorRate.reason).toBe(KPI_NULL_REASONS.noRequests);

    // 11-07: A4 20:00-24:00 contains A6 23:00-24:00: 4 h of downtime.
    expect(day7!.uptime.value).toBeCloseTo(1 - 4 / 72, 10);
    expect(day7!.mttr.value).toBeNull();
    expect(day7!.incidentFrequency.value).toBeCloseTo(14, 10);

    const opened = days.reduce(
      (sum, day) => sum + day.kpis.incidentFrequency.sampleSize,
      0,
    );
    expect(opened).toBe(6);
  });

  it("rejects a bucket count out of range", async () => {
    await expect(getKpiTrend({ from: FROM, to: TO }, 0)).rejects.toThrow(
      /bucket count/,
    );
    await expect(getKpiTrend({ from: FROM, to: TO }, 1.5)).rejects.toThrow(
      /bucket count/,
    );
  });
});
