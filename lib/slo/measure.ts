import type pg from "pg";

import { splitBuckets } from "@/lib/kpi/segments";
import type { SloMeasure } from "@/lib/slo/definitions";
import type { SloRecord } from "@/lib/slo/store";

// Counts the good and bad units of an SLO over several ranges at once
// (lib/slo/definitions.ts defines what each kind counts). Series-based SLOs
// read like the error-rate KPI (lib/kpi/queries.ts): whole UTC days from
// series_rollup_day, whole hours from series_rollup_hour, and the partial
// hours at the edges and every hour listed in series_rollup_pending from
// data_point. A latency SLO can use a rollup row only when all its points
// are on one side of the threshold (min above it, or max at or under it).
// Other rows are "mixed": a mixed day is read hour by hour and a mixed hour
// from data_point. So the counts equal a count over data_point exactly.

type Queryable = Pick<pg.ClientBase, "query">;

/** A half-open time range [start, end). */
export type TimeRange = { start: Date; end: Date };

type SeriesRole = "request" | "error" | "latency";

type TrackedSeries = { id: number; role: SeriesRole };

const EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'";

// $1/$2 range starts and ends, $3 distinct series ids, $8 the latency
// threshold or null. Usable rollup rows: nothing pending in them and, with
// a threshold, not mixed.
const RANGES_AND_SERIES = `
  bucket AS (
    SELECT b.idx, b.start_at, b.end_at
    FROM unnest($1::timestamptz[], $2::timestamptz[])
      WITH ORDINALITY AS b(start_at, end_at, idx)
  ),
  tracked AS (
    SELECT DISTINCT id FROM unnest($3::int[]) AS id
  )`;

const MIXED = (alias: string) =>
  `($8::float8 IS NOT NULL AND ${alias}.min <= $8::float8 AND ${alias}.max > $8::float8)`;

const BAD = (alias: string) =>
  `CASE WHEN $8::float8 IS NOT NULL AND ${alias}.min > $8::float8 THEN ${alias}.count ELSE 0 END`;

const PARTS_FROM_ROLLUPS = `
  segment AS (
    SELECT s.idx, s.source, s.start_at, s.end_at
    FROM unnest($4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[])
      AS s(idx, source, start_at, end_at)
  ),
  pending AS (
    SELECT q.series_id, q.bucket_start
    FROM series_rollup_pending q
    WHERE q.series_id IN (SELECT id FROM tracked)
  ),
  pending_day AS (
    SELECT DISTINCT q.series_id,
           date_bin('1 day', q.bucket_start, ${EPOCH}) AS day_start
    FROM pending q
  ),
  -- Days of day segments that must be read hour by hour.
  split_day AS (
    SELECT s.idx, pd.series_id, pd.day_start
    FROM segment s
    JOIN pending_day pd
      ON pd.day_start >= s.start_at AND pd.day_start < s.end_at
    WHERE s.source = 'day'
    UNION
    SELECT s.idx, d.series_id, d.bucket_start
    FROM segment s
    JOIN series_rollup_day d
      ON d.series_id IN (SELECT id FROM tracked)
     AND d.bucket_start >= s.start_at AND d.bucket_start < s.end_at
    WHERE s.source = 'day' AND ${MIXED("d")}
  ),
  -- Hours to read from rollups or points: those of hour segments and of
  -- split days, with the segment index they count toward.
  hour_span AS (
    SELECT s.idx, t.id AS series_id, s.start_at, s.end_at
    FROM segment s
    CROSS JOIN tracked t
    WHERE s.source = 'hour'
    UNION ALL
    SELECT sd.idx, sd.series_id, sd.day_start, sd.day_start + interval '24 hours'
    FROM split_day sd
  ),
  raw_hour AS (
    SELECT hs.idx, q.series_id, q.bucket_start
    FROM hour_span hs
    JOIN pending q
      ON q.series_id = hs.series_id
     AND q.bucket_start >= hs.start_at AND q.bucket_start < hs.end_at
    UNION
    SELECT hs.idx, h.series_id, h.bucket_start
    FROM hour_span hs
    JOIN series_rollup_hour h
      ON h.series_id = hs.series_id
     AND h.bucket_start >= hs.start_at AND h.bucket_start < hs.end_at
    WHERE ${MIXED("h")}
  ),
  part AS (
    SELECT s.idx, d.series_id, d.sum, d.count::bigint AS count,
           (${BAD("d")})::bigint AS bad
    FROM segment s
    JOIN series_rollup_day d
      ON d.series_id IN (SELECT id FROM tracked)
     AND d.bucket_start >= s.start_at AND d.bucket_start < s.end_at
    WHERE s.source = 'day'
      AND NOT EXISTS (SELECT 1 FROM split_day sd
                      WHERE sd.idx = s.idx AND sd.series_id = d.series_id
                        AND sd.day_start = d.bucket_start)
    UNION ALL
    SELECT hs.idx, h.series_id, h.sum, h.count::bigint, (${BAD("h")})::bigint
    FROM hour_span hs
    JOIN series_rollup_hour h
      ON h.series_id = hs.series_id
     AND h.bucket_start >= hs.start_at AND h.bucket_start < hs.end_at
    WHERE NOT EXISTS (SELECT 1 FROM raw_hour r
                      WHERE r.idx = hs.idx AND r.series_id = h.series_id
                        AND r.bucket_start = h.bucket_start)
    UNION ALL
    SELECT r.idx, r.series_id, p.value::numeric, 1::bigint,
           CASE WHEN $8::float8 IS NOT NULL AND p.value > $8::float8 THEN 1 ELSE 0 END::bigint
    FROM raw_hour r
    JOIN data_point p
      ON p.series_id = r.series_id
     AND p.ts >= r.bucket_start AND p.ts < r.bucket_start + interval '1 hour'
    UNION ALL
    SELECT s.idx, t.id, p.value::numeric, 1::bigint,
           CASE WHEN $8::float8 IS NOT NULL AND p.value > $8::float8 THEN 1 ELSE 0 END::bigint
    FROM segment s
    CROSS JOIN tracked t
    JOIN data_point p
      ON p.series_id = t.id AND p.ts >= s.start_at AND p.ts < s.end_at
    WHERE s.source = 'points'
  )`;

// The reference: every point in each range, straight from data_point.
const PARTS_FROM_POINTS = `
  part AS (
    SELECT b.idx, t.id AS series_id, p.value::numeric AS sum, 1::bigint AS count,
           CASE WHEN $4::float8 IS NOT NULL AND p.value > $4::float8 THEN 1 ELSE 0 END::bigint AS bad
    FROM bucket b
    CROSS JOIN tracked t
    JOIN data_point p
      ON p.series_id = t.id AND p.ts >= b.start_at AND p.ts < b.end_at
  )`;

// Totals per range and series; numeric sums are sent as text so that
// nothing is rounded before JavaScript parses them.
const TOTALS = `
  SELECT idx::int AS idx, series_id, sum(sum)::text AS sum,
         sum(count)::text AS count, sum(bad)::text AS bad
  FROM part
  GROUP BY idx, series_id`;

type TotalRow = {
  idx: number;
  series_id: number;
  sum: string;
  count: string;
  bad: string;
};

/** Returns the series an SLO reads, with the role each plays. */
async function trackedSeries(
  db: Queryable,
  slo: SloRecord,
): Promise<TrackedSeries[]> {
  if (slo.kind === "latency") {
    const { rows } = await db.query<{ id: number }>(
      "SELECT id FROM metric_series WHERE service_id = $1 AND name = $2",
      [slo.serviceId, slo.latencyMetric],
    );
    return rows.map((row) => ({ id: row.id, role: "latency" }));
  }
  const { rows } = await db.query<{ id: number; name: string }>(
    `SELECT ms.id, ms.name
     FROM metric_series ms
     JOIN service s ON s.id = ms.service_id
     WHERE ms.service_id = $1
       AND s.request_metric IS NOT NULL AND s.error_metric IS NOT NULL
       AND ms.name IN (s.request_metric, s.error_metric)`,
    [slo.serviceId],
  );
  const { rows: service } = await db.query<{
    request_metric: string | null;
    error_metric: string | null;
  }>("SELECT request_metric, error_metric FROM service WHERE id = $1", [
    slo.serviceId,
  ]);
  const tracked: TrackedSeries[] = [];
  for (const row of rows) {
    // One name can be both metrics; the series then counts in both sums.
    if (row.name === service[0]?.request_metric) tracked.push({ id: row.id, role: "request" });
    if (row.name === service[0]?.error_metric) tracked.push({ id: row.id, role: "error" });
  }
  return tracked;
}

/** Adds the per-series totals up into one measure per range. */
function combine(
  ranges: TimeRange[],
  tracked: TrackedSeries[],
  rows: TotalRow[],
): SloMeasure[] {
  const measures = ranges.map(() => ({ total: 0, bad: 0 }));
  const roles = new Map<number, SeriesRole[]>();
  for (const series of tracked) {
    roles.set(series.id, [...(roles.get(series.id) ?? []), series.role]);
  }
  for (const row of rows) {
    const measure = measures[row.idx - 1]!;
    for (const role of roles.get(row.series_id) ?? []) {
      if (role === "request") measure.total += Number(row.sum);
      if (role === "error") measure.bad += Number(row.sum);
      if (role === "latency") {
        measure.total += Number(row.count);
        measure.bad += Number(row.bad);
      }
    }
  }
  return measures;
}

/**
 * Measures downtime: the union of the service-impacting incidents of the
 * service, clipped to each range, as the uptime KPI does.
 */
async function measureDowntime(
  db: Queryable,
  serviceId: number,
  ranges: TimeRange[],
): Promise<SloMeasure[]> {
  const { rows } = await db.query<{ idx: number; seconds: number; down: number }>(
    `WITH bucket AS (
       SELECT b.idx, b.start_at, b.end_at
       FROM unnest($1::timestamptz[], $2::timestamptz[])
         WITH ORDINALITY AS b(start_at, end_at, idx)
     ),
     open_span AS (
       SELECT b.idx,
              tstzrange(greatest(i.opened_at, b.start_at),
                        least(coalesce(i.resolved_at, b.end_at), b.end_at)) AS span
       FROM bucket b
       JOIN incident i
         ON i.opened_at < b.end_at
        AND (i.resolved_at IS NULL OR i.resolved_at > b.start_at)
       WHERE i.service_id = $3
         AND i.service_impacting
         AND (i.resolved_at IS NULL OR i.resolved_at >= i.opened_at)
     ),
     downtime AS (
       SELECT o.idx,
              (SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)
               FROM unnest(range_agg(o.span)) AS r)::float8 AS seconds
       FROM open_span o
       GROUP BY o.idx
     )
     SELECT b.idx::int AS idx,
            extract(epoch FROM b.end_at - b.start_at)::float8 AS seconds,
            coalesce(d.seconds, 0)::float8 AS down
     FROM bucket b
     LEFT JOIN downtime d ON d.idx = b.idx
     ORDER BY b.idx`,
    [
      ranges.map((range) => range.start.toISOString()),
      ranges.map((range) => range.end.toISOString()),
      serviceId,
    ],
  );
  return rows.map((row) => ({ total: row.seconds, bad: row.down }));
}

function checkRanges(ranges: TimeRange[]): void {
  for (const range of ranges) {
    if (!(range.start.getTime() <= range.end.getTime())) {
      throw new RangeError(
        `range start ${range.start.toISOString()} is after its end ${range.end.toISOString()}`,
      );
    }
  }
}

/**
 * Measures an SLO over each range, reading the rollups for whole hours and
 * days, so that a 30-day window costs about as much as a day of points.
 */
export async function measureSlo(
  db: Queryable,
  slo: SloRecord,
  ranges: TimeRange[],
): Promise<SloMeasure[]> {
  checkRanges(ranges);
  if (ranges.length === 0) return [];
  if (slo.kind === "availability" && slo.availabilitySource === "incidents") {
    return measureDowntime(db, slo.serviceId, ranges);
  }
  const tracked = await trackedSeries(db, slo);
  if (tracked.length === 0) return ranges.map(() => ({ total: 0, bad: 0 }));
  const segments = splitBuckets(ranges);
  const { rows } = await db.query<TotalRow>(
    `WITH ${RANGES_AND_SERIES}, ${PARTS_FROM_ROLLUPS} ${TOTALS}`,
    [
      ranges.map((range) => range.start.toISOString()),
      ranges.map((range) => range.end.toISOString()),
      tracked.map((series) => series.id),
      // idx in the bucket CTE counts from 1.
      segments.map((segment) => segment.index + 1),
      segments.map((segment) => segment.source),
      segments.map((segment) => new Date(segment.start).toISOString()),
      segments.map((segment) => new Date(segment.end).toISOString()),
      slo.kind === "latency" ? slo.latencyThreshold : null,
    ],
  );
  return combine(ranges, tracked, rows);
}

/**
 * Counts the same measures as measureSlo from every data point. Tests use
 * it as the reference that measureSlo must equal.
 */
export async function measureSloFromPoints(
  db: Queryable,
  slo: SloRecord,
  ranges: TimeRange[],
): Promise<SloMeasure[]> {
  checkRanges(ranges);
  if (ranges.length === 0) return [];
  if (slo.kind === "availability" && slo.availabilitySource === "incidents") {
    return measureDowntime(db, slo.serviceId, ranges);
  }
  const tracked = await trackedSeries(db, slo);
  if (tracked.length === 0) return ranges.map(() => ({ total: 0, bad: 0 }));
  const { rows } = await db.query<TotalRow>(
    `WITH ${RANGES_AND_SERIES}, ${PARTS_FROM_POINTS} ${TOTALS}`,
    [
      ranges.map((range) => range.start.toISOString()),
      ranges.map((range) => range.end.toISOString()),
      tracked.map((series) => series.id),
      slo.kind === "latency" ? slo.latencyThreshold : null,
    ],
  );
  return combine(ranges, tracked, rows);
}
