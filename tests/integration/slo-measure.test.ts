import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "@/lib/db";
import { foldAllPendingRollups } from "@/lib/kpi/rollups";
import { measureSlo, measureSloFromPoints, type TimeRange } from "@/lib/slo/measure";
import { computeSloStatus } from "@/lib/slo/status";
import { createSlo, type SloInput, type SloRecord } from "@/lib/slo/store";
import { SLO_DEFAULTS } from "@/lib/slo/definitions";
import { truncateAll } from "@/tests/support/database";
import { loadNabSeries, shiftToEnd } from "@/tests/support/nab";

// SLO measures read from the rollups must equal the same counts over every
// data point, folded or not, and the status must match figures worked out
// by hand. Requests are the NAB ELB request counts (14 days, one point per
// 5 minutes); errors are a share of them; the latency series is NAB RDS
// CPU utilisation read as milliseconds, in two label sets.

const DATA_END = new Date("2026-11-02T17:35:00Z");
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

let db: pg.Client;
let serviceId: number;

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

async function addService(slug: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ($1, $1, 'requests', 'errors') RETURNING id`,
    [slug],
  );
  return rows[0]!.id;
}

async function addSeries(id: number, name: string, labelsKey = "{}"): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, $3::jsonb, $3) RETURNING id`,
    [id, name, labelsKey],
  );
  return rows[0]!.id;
}

async function insertPoints(seriesId: number, points: Array<{ ts: Date; value: number }>) {
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)
     ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value`,
    [seriesId, points.map((point) => point.ts), points.map((point) => point.value)],
  );
}

function input(overrides: Partial<SloInput>): SloInput {
  return {
    service: "checkout",
    name: "availability",
    kind: "availability",
    availabilitySource: "requests",
    latencyMetric: null,
    latencyThreshold: null,
    target: 0.99,
    windowDays: 7,
    ...SLO_DEFAULTS,
    ...overrides,
  };
}

/** Ranges that cover whole days, whole hours and ragged edges. */
function testRanges(): TimeRange[] {
  const end = DATA_END.getTime() + 2 * MINUTE_MS + 17_000;
  const ranges: Array<[number, number]> = [
    [end - 12 * DAY_MS, end],
    [end - 7 * DAY_MS, end],
    [end - 6 * HOUR_MS, end],
    [end - HOUR_MS, end],
    [end - 30 * MINUTE_MS, end],
    [end - 5 * MINUTE_MS, end],
    [Date.parse("2026-10-25T00:00:00Z"), Date.parse("2026-10-28T00:00:00Z")],
    [Date.parse("2026-10-25T03:00:00Z"), Date.parse("2026-10-25T05:00:00Z")],
    [Date.parse("2026-10-26T13:41:07Z"), Date.parse("2026-10-29T02:03:00Z")],
  ];
  return ranges.map(([start, finish]) => ({ start: new Date(start), end: new Date(finish) }));
}

describe("SLO measures from rollups", () => {
  let availability: SloRecord;
  let latency: SloRecord;
  let latencySeries: number[];

  beforeEach(async () => {
    await truncateAll(process.env.DATABASE_URL!);
    serviceId = await addService("checkout");
    const requests = shiftToEnd(
      loadNabSeries("realAWSCloudwatch/elb_request_count_8c0756.csv"),
      DATA_END,
    ).points;
    const cpu = shiftToEnd(
      loadNabSeries("realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv"),
      DATA_END,
    ).points;
    await insertPoints(await addSeries(serviceId, "requests"), requests);
    // About 0.5 % of requests fail, more in every seventh hour.
    await insertPoints(
      await addSeries(serviceId, "errors"),
      requests.map((point) => ({
        ts: point.ts,
        value: Math.floor(point.value * (point.ts.getUTCHours() % 7 === 0 ? 0.05 : 0.005)),
      })),
    );
    latencySeries = [
      await addSeries(serviceId, "latency_ms", '{"zone":"a"}'),
      await addSeries(serviceId, "latency_ms", '{"zone":"b"}'),
    ];
    await insertPoints(latencySeries[0]!, cpu);
    await insertPoints(
      latencySeries[1]!,
      cpu.map((point) => ({ ts: new Date(point.ts.getTime() + 90_000), value: point.value * 1.3 })),
    );
    availability = await createSlo(db, input({}));
    latency = await createSlo(
      db,
      input({
        name: "latency",
        kind: "latency",
        availabilitySource: null,
        latencyMetric: "latency_ms",
        latencyThreshold: 40,
      }),
    );
  });

  it("equals the point counts before any fold", async () => {
    for (const slo of [availability, latency]) {
      const expected = await measureSloFromPoints(db, slo, testRanges());
      expect(await measureSlo(db, slo, testRanges())).toEqual(expected);
    }
  });

  it("equals the point counts after a fold", async () => {
    const folded = await foldAllPendingRollups(db);
    expect(folded.hours).toBeGreaterThan(300);
    const { rows } = await db.query<{ mixed: string; whole: string }>(
      `SELECT count(*) FILTER (WHERE min <= 40 AND max > 40) AS mixed,
              count(*) FILTER (WHERE NOT (min <= 40 AND max > 40)) AS whole
       FROM series_rollup_hour WHERE series_id = ANY($1::int[])`,
      [latencySeries],
    );
    // The threshold leaves both kinds of hours, so both paths run.
    expect(Number(rows[0]!.mixed)).toBeGreaterThan(0);
    expect(Number(rows[0]!.whole)).toBeGreaterThan(0);
    for (const slo of [availability, latency]) {
      const expected = await measureSloFromPoints(db, slo, testRanges());
      expect(expected[0]!.total).toBeGreaterThan(0);
      expect(expected[0]!.bad).toBeGreaterThan(0);
      expect(await measureSlo(db, slo, testRanges())).toEqual(expected);
    }
  });

  it("equals the point counts with late points pending", async () => {
    await foldAllPendingRollups(db);
    // Late points in folded hours and days: the fold has not seen them.
    await insertPoints(latencySeries[0]!, [
      { ts: new Date("2026-10-26T10:02:30Z"), value: 400 },
      { ts: new Date("2026-10-27T23:59:59Z"), value: 1 },
    ]);
    const { rows } = await db.query<{ id: number }>(
      "SELECT id FROM metric_series WHERE name = 'errors'",
    );
    await insertPoints(rows[0]!.id, [{ ts: new Date("2026-10-25T04:00:30Z"), value: 1000 }]);
    const { rows: pending } = await db.query("SELECT * FROM series_rollup_pending");
    expect(pending.length).toBe(3);
    for (const slo of [availability, latency]) {
      const expected = await measureSloFromPoints(db, slo, testRanges());
      expect(await measureSlo(db, slo, testRanges())).toEqual(expected);
    }
  });
});

describe("SLO status by hand", () => {
  beforeEach(async () => {
    await truncateAll(process.env.DATABASE_URL!);
    serviceId = await addService("checkout");
  });

  it("counts requests, budget and burn rates", async () => {
    const requests = await addSeries(serviceId, "requests");
    const errors = await addSeries(serviceId, "errors");
    const at = new Date("2026-11-10T12:00:00Z");
    // Three days ago: 10,000 requests, 10 errors. 40 min ago: 1,000
    // requests, 0 errors. 2 min ago: 1,000 requests, 200 errors.
    const ago = (ms: number) => new Date(at.getTime() - ms);
    await insertPoints(requests, [
      { ts: ago(3 * DAY_MS), value: 10_000 },
      { ts: ago(40 * MINUTE_MS), value: 1_000 },
      { ts: ago(2 * MINUTE_MS), value: 1_000 },
    ]);
    await insertPoints(errors, [
      { ts: ago(3 * DAY_MS), value: 10 },
      { ts: ago(40 * MINUTE_MS), value: 0 },
      { ts: ago(2 * MINUTE_MS), value: 200 },
    ]);
    await foldAllPendingRollups(db);
    const slo = await createSlo(db, input({ target: 0.99, windowDays: 7 }));
    const status = await computeSloStatus(db, slo, at);

    // Window: 12,000 requests, 210 bad. Budget 1 % of 12,000 = 120.
    expect(status.total).toBe(12_000);
    expect(status.bad).toBe(210);
    expect(status.attainment).toBeCloseTo(1 - 210 / 12_000, 12);
    expect(status.budget).toBeCloseTo(120, 9);
    expect(status.budgetRemaining).toBeCloseTo(-90, 9);
    expect(status.budgetRemainingFraction).toBeCloseTo(1 - 210 / 120, 12);
    // 1 h: 2,000 requests, 200 bad: 10 % / 1 % = 10x. 5 min: 20 % / 1 % = 20x.
    expect(status.fast.long.burnRate).toBeCloseTo(10, 9);
    expect(status.fast.short.burnRate).toBeCloseTo(20, 9);
    expect(status.fast.burning).toBe(false);
    // 6 h and 30 min: the same points as 1 h and 5 min.
    expect(status.slow.long.burnRate).toBeCloseTo(10, 9);
    expect(status.slow.short.burnRate).toBeCloseTo(20, 9);
    expect(status.slow.burning).toBe(true);
    expect(status.state).toBe("slow_burn");
    expect(status.unit).toBe("requests");
  });

  it("counts latency points above the threshold", async () => {
    const series = await addSeries(serviceId, "latency_ms");
    const at = new Date("2026-11-10T12:00:00Z");
    const values = [100, 250, 250.5, 300, 90, 1000, 249.9, 251];
    await insertPoints(
      series,
      values.map((value, index) => ({ ts: new Date(at.getTime() - (index + 1) * HOUR_MS), value })),
    );
    await foldAllPendingRollups(db);
    const slo = await createSlo(
      db,
      input({
        name: "p",
        kind: "latency",
        availabilitySource: null,
        latencyMetric: "latency_ms",
        latencyThreshold: 250,
        target: 0.5,
      }),
    );
    const status = await computeSloStatus(db, slo, at);
    // Above 250: 250.5, 300, 1000, 251. 250 itself is good.
    expect(status.total).toBe(8);
    expect(status.bad).toBe(4);
    expect(status.attainment).toBe(0.5);
    expect(status.budgetRemaining).toBe(0);
    expect(status.state).toBe("ok");
    expect(status.unit).toBe("points");
  });

  it("counts incident downtime once where incidents overlap", async () => {
    const at = new Date("2026-11-10T12:00:00Z");
    const ago = (ms: number) => new Date(at.getTime() - ms);
    const add = async (key: string, from: Date, to: Date | null, impacting = true) =>
      db.query(
        `INSERT INTO incident (service_id, title, status, source, dedup_key, opened_at,
                               resolved_at, service_impacting)
         VALUES ($1, $2, $3, 'manual', $2, $4, $5, $6)`,
        [serviceId, key, to ? "resolved" : "triggered", from, to, impacting],
      );
    // 60 min and 30 min overlapping by 20 min: 70 min down, and 3 min open now.
    await add("a", ago(5 * HOUR_MS), ago(4 * HOUR_MS));
    await add("b", ago(4 * HOUR_MS + 20 * MINUTE_MS), ago(3 * HOUR_MS + 50 * MINUTE_MS));
    await add("c", ago(3 * MINUTE_MS), null);
    await add("not impacting", ago(2 * HOUR_MS), ago(HOUR_MS), false);
    const slo = await createSlo(
      db,
      input({ availabilitySource: "incidents", target: 0.999, windowDays: 1 }),
    );
    const status = await computeSloStatus(db, slo, at);
    expect(status.unit).toBe("seconds");
    expect(status.total).toBe(86_400);
    expect(status.bad).toBe(73 * 60);
    expect(status.budget).toBeCloseTo(86.4, 9);
    expect(status.attainment).toBeCloseTo(1 - (73 * 60) / 86_400, 12);
    // 5 min window: 3 min down = 60 % / 0.1 % = 600x; 1 h window: 5 %, 50x.
    expect(status.fast.short.burnRate).toBeCloseTo(600, 6);
    expect(status.fast.long.burnRate).toBeCloseTo(50, 6);
    expect(status.state).toBe("fast_burn");
  });

  it("reports no data without points", async () => {
    await addSeries(serviceId, "requests");
    const slo = await createSlo(db, input({}));
    const status = await computeSloStatus(db, slo, new Date("2026-11-10T12:00:00Z"));
    expect(status.state).toBe("no_data");
    expect(status.attainment).toBeNull();
    expect(status.fast.long.burnRate).toBeNull();
    expect(status.budgetRemainingFraction).toBeNull();
  });
});
