import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "@/lib/db";
import {
  foldAllPendingRollups,
  foldPendingRollups,
  getKpis,
  getKpisFromPoints,
  getKpiTrend,
  getKpiTrendFromPoints,
  type KpiRange,
} from "@/lib/kpi";
import { ROLLUP_LOCK_CLASS } from "@/lib/kpi/rollups";
import { DAY_MS, HOUR_MS, splitBucket } from "@/lib/kpi/segments";
import { truncateAll } from "@/tests/support/database";
import { loadNabSeries, shiftToEnd } from "@/tests/support/nab";
import { startWorker } from "@/workers/main";

// The error-rate KPI read from the rollups must equal the same KPI summed
// from every data point, whatever state the fold is in. The data are two
// NAB AWS CloudWatch series (14 days at one point per 5 minutes) used as the
// request and error counters of two services.

const REQUESTS_FILE = "realAWSCloudwatch/elb_request_count_8c0756.csv";
const ERRORS_FILE = "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv";
// The last NAB point lands on this time, so data span 2026-10-20..11-03.
const DATA_END = new Date("2026-11-02T17:35:00Z");
const MINUTE_MS = 60_000;

let db: pg.Client;
let requestSeries: number[];
let errorSeries: number[];
let serviceIds: number[];
let dataStart: Date;

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

async function addSeries(serviceId: number, name: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, '{}', '{}') RETURNING id`,
    [serviceId, name],
  );
  return rows[0]!.id;
}

async function insertPoints(
  client: pg.ClientBase,
  seriesId: number,
  points: Array<{ ts: Date; value: number }>,
): Promise<void> {
  await client.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value
     FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)
     ON CONFLICT (series_id, ts) DO NOTHING`,
    [seriesId, points.map((point) => point.ts), points.map((point) => point.value)],
  );
}

/** Two services; the second's counters are the first's, scaled and shifted. */
async function loadServices(): Promise<void> {
  const requests = shiftToEnd(loadNabSeries(REQUESTS_FILE), DATA_END).points;
  const errors = shiftToEnd(loadNabSeries(ERRORS_FILE), DATA_END).points;
  dataStart = requests[0]!.ts;
  serviceIds = [];
  requestSeries = [];
  errorSeries = [];
  for (const [slug, scale, offsetMs] of [
    ["checkout", 1, 0],
    ["search", 3.7, 90_000],
  ] as const) {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO service (slug, name, request_metric, error_metric)
       VALUES ($1, $1, 'requests', 'errors') RETURNING id`,
      [slug],
    );
    const serviceId = rows[0]!.id;
    serviceIds.push(serviceId);
    const requestId = await addSeries(serviceId, "requests");
    const errorId = await addSeries(serviceId, "errors");
    requestSeries.push(requestId);
    errorSeries.push(errorId);
    const shift = (point: { ts: Date; value: number }) => ({
      ts: new Date(point.ts.getTime() - offsetMs),
      value: point.value * scale,
    });
    await insertPoints(db, requestId, requests.map(shift));
    await insertPoints(db, errorId, errors.map(shift));
  }
}

/** Ranges with partial hours and days at both edges, aligned ones, and tiny ones. */
function ranges(): KpiRange[] {
  const start = dataStart.getTime();
  const at = (ms: number) => new Date(ms);
  return [
    // 13 days from 17 min 13.5 s past a point: partial edges, whole days.
    { from: at(start + 17 * MINUTE_MS + 13_500), to: at(start + 13 * DAY_MS + 7_777) },
    // Midnight to midnight: days only.
    { from: new Date("2026-10-22T00:00:00Z"), to: new Date("2026-10-29T00:00:00Z") },
    // Within one day, from a partial hour to a whole one.
    { from: new Date("2026-10-25T03:20:01Z"), to: new Date("2026-10-25T21:00:00Z") },
    // 40 minutes: points only.
    { from: new Date("2026-10-26T10:10:00Z"), to: new Date("2026-10-26T10:50:00Z") },
    // Before the first point until after the last.
    { from: new Date("2026-10-01T00:00:00Z"), to: new Date("2026-11-10T00:00:00Z") },
    // One service only.
    {
      from: new Date("2026-10-23T11:11:11Z"),
      to: new Date("2026-10-31T05:05:05Z"),
      serviceIds: [serviceIds[1]!],
    },
  ];
}

/** Asserts that rollup and raw KPIs agree for every range and trend. */
async function expectRollupsEqualPoints(): Promise<void> {
  for (const range of ranges()) {
    const label = `${range.from.toISOString()}..${range.to.toISOString()}`;
    expect(await getKpis(range), label).toEqual(await getKpisFromPoints(range));
    for (const buckets of [7, 24, 97]) {
      expect(await getKpiTrend(range, buckets), `${label} x${buckets}`).toEqual(
        await getKpiTrendFromPoints(range, buckets),
      );
    }
  }
}

/**
 * Returns rollup rows that differ from data_point grouped by hour and by
 * day, and the rows missing on either side; empty when they match.
 */
async function rollupMismatches(client: pg.ClientBase = db): Promise<unknown[]> {
  const mismatches: unknown[] = [];
  for (const [table, width] of [
    ["series_rollup_hour", "1 hour"],
    ["series_rollup_day", "1 day"],
  ] as const) {
    const { rows } = await client.query(
      `WITH raw AS (
         SELECT series_id,
                date_bin('${width}', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
                count(*)::int AS count, sum(value::numeric) AS sum,
                min(value) AS min, max(value) AS max
         FROM data_point
         GROUP BY 1, 2
       )
       SELECT '${table}' AS rollup, raw.*, r.count AS rollup_count,
              r.sum AS rollup_sum, r.min AS rollup_min, r.max AS rollup_max
       FROM raw
       FULL JOIN ${table} r
         ON r.series_id = raw.series_id AND r.bucket_start = raw.bucket_start
       WHERE r.series_id IS NULL OR raw.series_id IS NULL
          OR r.count <> raw.count OR r.sum <> raw.sum
          OR r.min <> raw.min OR r.max <> raw.max
       LIMIT 5`,
    );
    mismatches.push(...rows);
  }
  return mismatches;
}

async function countRows(table: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM ${table}`,
  );
  return rows[0]!.count;
}

/** Counts the distinct (series, UTC hour) pairs that have points. */
async function hoursWithPoints(): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(DISTINCT (series_id,
              date_bin('1 hour', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00')))::int AS count
     FROM data_point`,
  );
  return rows[0]!.count;
}

async function fold(): Promise<void> {
  await foldAllPendingRollups(db, { batchHours: 150 });
}

describe("splitBucket", () => {
  it("reads a short bucket from points", () => {
    const bucket = {
      start: new Date("2026-10-26T10:10:00Z"),
      end: new Date("2026-10-26T10:50:00Z"),
    };
    expect(splitBucket(bucket, 3)).toEqual([
      { index: 3, source: "points", start: bucket.start.getTime(), end: bucket.end.getTime() },
    ]);
  });

  it("splits edges, hours and days in order", () => {
    const start = Date.parse("2026-10-20T22:30:00Z");
    const end = Date.parse("2026-10-23T01:15:00Z");
    const segments = splitBucket({ start: new Date(start), end: new Date(end) }, 0);
    expect(segments.map((segment) => segment.source)).toEqual([
      "points",
      "hour",
      "day",
      "hour",
      "points",
    ]);
    expect(segments[0]!.end).toBe(Date.parse("2026-10-20T23:00:00Z"));
    expect(segments[1]!.end).toBe(Date.parse("2026-10-21T00:00:00Z"));
    expect(segments[2]!.end).toBe(Date.parse("2026-10-23T00:00:00Z"));
    expect(segments[3]!.end).toBe(Date.parse("2026-10-23T01:00:00Z"));
    expect(segments[4]!.end).toBe(end);
  });

  it("covers the bucket without gaps", () => {
    const start = Date.parse("2026-10-20T00:00:00Z") + 7 * HOUR_MS + 1;
    const end = start + 3 * DAY_MS + 5 * HOUR_MS;
    const segments = splitBucket({ start: new Date(start), end: new Date(end) }, 0);
    expect(segments[0]!.start).toBe(start);
    expect(segments.at(-1)!.end).toBe(end);
    for (let i = 1; i < segments.length; i += 1) {
      expect(segments[i]!.start).toBe(segments[i - 1]!.end);
    }
  });
});

describe("KPI rollups", () => {
  beforeEach(async () => {
    await truncateAll(process.env.DATABASE_URL!);
    await loadServices();
  });

  it("marks every written hour pending", async () => {
    // 4,032 points per series at 5-minute steps touch 336 or 337 hours.
    const hours = await hoursWithPoints();
    expect(hours).toBeGreaterThanOrEqual(4 * 336);
    expect(await countRows("series_rollup_pending")).toBe(hours);
    expect(await countRows("series_rollup_hour")).toBe(0);
  });

  it("folds into rollups equal to the points", async () => {
    await fold();
    expect(await countRows("series_rollup_pending")).toBe(0);
    expect(await rollupMismatches()).toEqual([]);
    expect(await countRows("series_rollup_day")).toBeGreaterThanOrEqual(4 * 14);
  });

  it("matches raw KPIs once folded", async () => {
    await fold();
    await expectRollupsEqualPoints();
    const whole = await getKpis(ranges()[0]!);
    expect(whole.errorRate.value).not.toBeNull();
    expect(whole.errorRate.sampleSize).toBeGreaterThan(1000);
  });

  it("reads whole days from the day rollup", async () => {
    await fold();
    // A day rollup that disagrees with its points shows in the KPI, which
    // proves the query reads it instead of the points.
    const range = ranges()[1]!;
    const before = await getKpis(range);
    await db.query(
      `UPDATE series_rollup_day SET sum = sum + 1000000
       WHERE series_id = $1 AND bucket_start = '2026-10-24T00:00:00Z'`,
      [requestSeries[0]!],
    );
    const after = await getKpis(range);
    expect(after.errorRate.sampleSize).toBe(before.errorRate.sampleSize + 1_000_000);
    expect(await getKpisFromPoints(range)).toEqual(before);
  });

  it("matches raw KPIs before any fold", async () => {
    await expectRollupsEqualPoints();
  });

  it("matches raw KPIs halfway through a fold", async () => {
    // One batch of 500 of the 1,344 or more pending hours: some days are
    // whole, some have pending hours, some series have no rollups yet.
    const batch = await foldPendingRollups(db, 500);
    expect(batch.hours).toBe(500);
    expect(await countRows("series_rollup_pending")).toBe(
      (await hoursWithPoints()) - 500,
    );
    await expectRollupsEqualPoints();
  });

  it("updates the bucket of late points", async () => {
    await fold();
    const late = [
      { ts: new Date("2026-10-24T06:02:30Z"), value: 12_345.5 },
      { ts: new Date("2026-10-24T06:59:59.999Z"), value: 0.25 },
      { ts: new Date("2026-10-28T00:00:00.001Z"), value: 77 },
    ];
    await insertPoints(db, requestSeries[0]!, late);
    await insertPoints(db, errorSeries[0]!, [{ ts: late[0]!.ts, value: 999 }]);
    expect(await countRows("series_rollup_pending")).toBe(3);
    // Pending hours are read from points, so KPIs are exact before the fold.
    await expectRollupsEqualPoints();

    await fold();
    expect(await countRows("series_rollup_pending")).toBe(0);
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });

  it("recomputes hours after deleted points", async () => {
    await fold();
    await db.query(
      `DELETE FROM data_point
       WHERE series_id = $1 AND ts >= '2026-10-25T00:00:00Z' AND ts < '2026-10-25T02:00:00Z'`,
      [requestSeries[1]!],
    );
    expect(await countRows("series_rollup_pending")).toBe(2);
    await expectRollupsEqualPoints();
    await fold();
    expect(await rollupMismatches()).toEqual([]);
  });

  it("adds nothing for duplicate points", async () => {
    await fold();
    const { rows } = await db.query<{ ts: Date; value: number }>(
      "SELECT ts, value FROM data_point WHERE series_id = $1 ORDER BY ts LIMIT 50",
      [requestSeries[0]!],
    );
    await insertPoints(db, requestSeries[0]!, rows);
    expect(await countRows("series_rollup_pending")).toBe(0);
  });

  it("deletes a series with its rollups", async () => {
    await fold();
    await db.query("DELETE FROM metric_series WHERE id = $1", [errorSeries[1]!]);
    // The delete trigger marked the deleted series' hours; the fold drops them.
    await fold();
    expect(await countRows("series_rollup_pending")).toBe(0);
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });

  it("empties the rollups on truncate", async () => {
    await fold();
    await db.query("TRUNCATE data_point");
    expect(await countRows("series_rollup_hour")).toBe(0);
    expect(await countRows("series_rollup_day")).toBe(0);
    expect(await countRows("series_rollup_pending")).toBe(0);
  });
});

/** Waits until backend `pid` waits on a lock, or fails after `timeoutMs`. */
async function waitForLockWait(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await db.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'`,
      [pid],
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`backend ${pid} did not wait on the rollup lock within ${timeoutMs} ms`);
}

describe("rollup maintenance", () => {
  beforeEach(async () => {
    await truncateAll(process.env.DATABASE_URL!);
    await loadServices();
  });

  it("loses nothing on a crash mid-fold", async () => {
    // The fold writes the hours, then waits for the day lock that `holder`
    // holds; terminating its backend there is a crash between writing the
    // rollups and deleting the pending rows.
    const holder = new pg.Client({ connectionString: process.env.DATABASE_URL });
    const folder = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    await folder.connect();
    folder.on("error", () => undefined);
    try {
      await holder.query("SELECT pg_advisory_lock($1, $2)", [
        ROLLUP_LOCK_CLASS,
        requestSeries[0]!,
      ]);
      const { rows } = await folder.query<{ pid: number }>(
        "SELECT pg_backend_pid() AS pid",
      );
      const folding = foldPendingRollups(folder, 200);
      const outcome = folding.then(
        () => "committed",
        (error: Error) => error.message,
      );
      await waitForLockWait(rows[0]!.pid, 10_000);
      const hoursWritten = await holder.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM series_rollup_hour",
      );
      // Uncommitted: no other session sees the fold's hours.
      expect(hoursWritten.rows[0]!.count).toBe(0);
      await db.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
      expect(await outcome).not.toBe("committed");
    } finally {
      await holder.end();
      await folder.end().catch(() => undefined);
    }

    expect(await countRows("series_rollup_hour")).toBe(0);
    expect(await countRows("series_rollup_pending")).toBe(await hoursWithPoints());

    await fold();
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });

  it("counts nothing twice on a second fold", async () => {
    await fold();
    // Mark every hour again, as a retried job after a lost commit
    // acknowledgement would find it.
    await db.query(
      `INSERT INTO series_rollup_pending (series_id, bucket_start)
       SELECT series_id, bucket_start FROM series_rollup_hour`,
    );
    await fold();
    await fold();
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });

  it("stays exact with two folds and writers", async () => {
    const clients = await Promise.all(
      [0, 1, 2].map(async () => {
        const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await client.connect();
        return client;
      }),
    );
    const [writer, folderA, folderB] = clients as [pg.Client, pg.Client, pg.Client];
    let writing = true;
    const loop = async (client: pg.Client) => {
      let hours = 0;
      while (writing) {
        hours += (await foldPendingRollups(client, 37)).hours;
      }
      return hours;
    };
    try {
      const folds = [loop(folderA), loop(folderB)];
      // New points after the data, and late points in folded and unfolded
      // hours, in many small transactions while both folds run.
      for (let i = 0; i < 60; i += 1) {
        const series = i % 2 === 0 ? requestSeries : errorSeries;
        const target = series[i % series.length]!;
        const late = dataStart.getTime() + ((i * 7919) % 330) * HOUR_MS + 61_000 + i;
        const fresh = DATA_END.getTime() + (i + 1) * MINUTE_MS;
        await writer.query("BEGIN");
        await insertPoints(writer, target, [
          { ts: new Date(late), value: i * 1.5 },
          { ts: new Date(fresh), value: 1000 + i },
        ]);
        await writer.query("COMMIT");
      }
      writing = false;
      const folded = await Promise.all(folds);
      expect(folded[0]! + folded[1]!).toBeGreaterThan(0);
    } finally {
      writing = false;
      await Promise.all(clients.map((client) => client.end()));
    }

    await fold();
    expect(await countRows("series_rollup_pending")).toBe(0);
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });

  it("folds from the worker's job", async () => {
    await db.query("SELECT graphile_worker.add_job('fold-kpi-rollups', '{}'::json)");
    const worker = await startWorker({
      connectionString: process.env.DATABASE_URL,
      concurrency: 1,
      pollIntervalMs: 200,
    });
    try {
      const deadline = Date.now() + 60_000;
      while ((await countRows("series_rollup_pending")) > 0) {
        if (Date.now() > deadline) throw new Error("the worker did not fold within 60 s");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await worker.stop();
    }
    await worker.promise;
    expect(await rollupMismatches()).toEqual([]);
    await expectRollupsEqualPoints();
  });
});
