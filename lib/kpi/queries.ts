import type pg from "pg";

import type { KpiBucket } from "@/lib/kpi/buckets";
import { KPI_NULL_REASONS } from "@/lib/kpi/definitions";
import { splitBuckets } from "@/lib/kpi/segments";
import type { KpiValue } from "@/lib/kpi/types";

// One SQL query per KPI computes it for every bucket at once. Each query
// starts from the same two CTEs: the buckets as rows (idx from 1, half-open
// [start_at, end_at), length in seconds) and the selected service ids.
// KPI_DEFINITIONS in lib/kpi/definitions.ts states what each query computes.

type Queryable = Pick<pg.Pool, "query">;

const COMMON_CTES = `
  bucket AS (
    SELECT b.idx, b.start_at, b.end_at,
           extract(epoch FROM b.end_at - b.start_at)::float8 AS seconds
    FROM unnest($1::timestamptz[], $2::timestamptz[])
      WITH ORDINALITY AS b(start_at, end_at, idx)
  ),
  selected AS (
    SELECT id FROM service
    WHERE $3::int[] IS NULL OR id = ANY($3::int[])
  )`;

function bucketParams(buckets: KpiBucket[], serviceIds?: number[]): unknown[] {
  return [
    buckets.map((bucket) => bucket.start.toISOString()),
    buckets.map((bucket) => bucket.end.toISOString()),
    serviceIds ?? null,
  ];
}

function noServices(unit: KpiValue["unit"]): KpiValue {
  return {
    value: null,
    unit,
    sampleSize: 0,
    reason: KPI_NULL_REASONS.noServices,
  };
}

/**
 * Uptime per bucket. Incident intervals are clipped to the bucket and
 * merged per service with range_agg, so overlaps count once.
 */
export async function queryUptime(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  const { rows } = await db.query<{
    services: string;
    uptime: number | null;
    incidents: string;
  }>(
    `WITH ${COMMON_CTES},
     open_span AS (
       SELECT b.idx, i.service_id,
              tstzrange(greatest(i.opened_at, b.start_at),
                        least(coalesce(i.resolved_at, b.end_at), b.end_at))
                AS span
       FROM bucket b
       JOIN incident i
         ON i.opened_at < b.end_at
        AND (i.resolved_at IS NULL OR i.resolved_at > b.start_at)
       WHERE i.service_impacting
         AND (i.resolved_at IS NULL OR i.resolved_at >= i.opened_at)
         AND i.service_id IN (SELECT id FROM selected)
     ),
     downtime AS (
       SELECT o.idx, o.service_id, count(*) AS incidents,
              (SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0)
               FROM unnest(range_agg(o.span)) AS r)::float8 AS seconds
       FROM open_span o
       GROUP BY o.idx, o.service_id
     )
     SELECT count(s.id) AS services,
            avg(1 - coalesce(d.seconds, 0) / b.seconds) AS uptime,
            coalesce(sum(d.incidents), 0) AS incidents
     FROM bucket b
     LEFT JOIN selected s ON true
     LEFT JOIN downtime d ON d.idx = b.idx AND d.service_id = s.id
     GROUP BY b.idx
     ORDER BY b.idx`,
    bucketParams(buckets, serviceIds),
  );
  return rows.map((row) =>
    Number(row.services) === 0
      ? noServices("ratio")
      : { value: row.uptime, unit: "ratio", sampleSize: Number(row.incidents) },
  );
}

type MeanSecondsRow = {
  services: string;
  mean_seconds: number | null;
  samples: string;
};

/** Maps per-bucket rows of a mean duration to KPI values; no samples is null with `emptyReason`. */
function toMeanSeconds(rows: MeanSecondsRow[], emptyReason: string): KpiValue[] {
  return rows.map((row) => {
    if (Number(row.services) === 0) return noServices("seconds");
    const samples = Number(row.samples);
    if (samples === 0) {
      return { value: null, unit: "seconds", sampleSize: 0, reason: emptyReason };
    }
    return { value: row.mean_seconds, unit: "seconds", sampleSize: samples };
  });
}

/**
 * Mean time to acknowledge per bucket, over the trigger cycles acknowledged
 * in it. lib/incidents/timings.ts computes the same for one incident.
 */
export async function queryMtta(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  const { rows } = await db.query<MeanSecondsRow>(
    `WITH ${COMMON_CTES},
     -- Only incidents acknowledged somewhere in the whole range matter.
     candidate AS (
       SELECT DISTINCT e.incident_id
       FROM incident_event e
       JOIN incident i ON i.id = e.incident_id
       WHERE e.kind = 'acknowledged'
         AND e.created_at >= (SELECT min(start_at) FROM bucket)
         AND e.created_at < (SELECT max(end_at) FROM bucket)
         AND i.service_id IN (SELECT id FROM selected)
     ),
     trigger AS (
       SELECT i.id AS incident_id, i.opened_at AS at, 0 AS seq
       FROM incident i
       WHERE i.id IN (SELECT incident_id FROM candidate)
       UNION ALL
       SELECT e.incident_id, e.created_at, e.id
       FROM incident_event e
       WHERE e.kind = 'reopened'
         AND e.incident_id IN (SELECT incident_id FROM candidate)
     ),
     cycle AS (
       SELECT incident_id, at AS started_at, seq,
              lead(at) OVER (PARTITION BY incident_id ORDER BY at, seq)
                AS ended_at
       FROM trigger
     ),
     -- The first cycle (seq 0) also takes an acknowledgement stamped
     -- before opened_at, which is the data time of the onset.
     -- MATERIALIZED, because when PostgreSQL 15 inlined it into the bucket
     -- join below, the subquery ran once per bucket and cycle: 300 ms
     -- instead of 14 ms for 30 buckets over 1,200 acknowledged incidents
     -- (npm run bench:dashboard data).
     acknowledgement AS MATERIALIZED (
       SELECT c.started_at,
              (SELECT min(e.created_at)
               FROM incident_event e
               WHERE e.incident_id = c.incident_id
                 AND e.kind = 'acknowledged'
                 AND (c.seq = 0 OR e.created_at >= c.started_at)
                 AND (c.ended_at IS NULL OR e.created_at < c.ended_at))
                AS acknowledged_at
       FROM cycle c
     )
     SELECT (SELECT count(*) FROM selected) AS services,
            avg(greatest(extract(epoch FROM a.acknowledged_at - a.started_at),
                         0))::float8 AS mean_seconds,
            count(a.acknowledged_at) AS samples
     FROM bucket b
     LEFT JOIN acknowledgement a
       ON a.acknowledged_at >= b.start_at AND a.acknowledged_at < b.end_at
     GROUP BY b.idx
     ORDER BY b.idx`,
    bucketParams(buckets, serviceIds),
  );
  return toMeanSeconds(rows, KPI_NULL_REASONS.noAcknowledgedIncident);
}

/**
 * Mean time to resolve per bucket, over incidents resolved in it. A
 * reopened incident has no resolved_at until it is resolved again.
 */
export async function queryMttr(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  const { rows } = await db.query<MeanSecondsRow>(
    `WITH ${COMMON_CTES}
     SELECT (SELECT count(*) FROM selected) AS services,
            avg(extract(epoch FROM i.resolved_at - i.opened_at))::float8
              AS mean_seconds,
            count(i.id) AS samples
     FROM bucket b
     LEFT JOIN incident i
       ON i.resolved_at >= b.start_at AND i.resolved_at < b.end_at
      AND i.status = 'resolved'
      AND i.service_id IN (SELECT id FROM selected)
     GROUP BY b.idx
     ORDER BY b.idx`,
    bucketParams(buckets, serviceIds),
  );
  return toMeanSeconds(rows, KPI_NULL_REASONS.noResolvedIncident);
}

type EventRate = {
  /** Table and timestamp column of the counted rows; constants, never input. */
  table: "incident" | "deployment";
  timeColumn: "opened_at" | "deployed_at";
  periodSeconds: number;
  unit: "per_week" | "per_day";
  /** Extra SQL condition on the counted row `e`, with its parameters from $4 on. */
  condition?: { sql: string; params: unknown[] };
};

/** Counts rows per bucket and divides by the bucket length in periods. */
async function queryEventRate(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds: number[] | undefined,
  rate: EventRate,
): Promise<KpiValue[]> {
  const { rows } = await db.query<{
    services: string;
    events: string;
    rate: number;
  }>(
    `WITH ${COMMON_CTES}
     SELECT (SELECT count(*) FROM selected) AS services,
            count(e.id) AS events,
            count(e.id) / (b.seconds / ${rate.periodSeconds}.0) AS rate
     FROM bucket b
     LEFT JOIN ${rate.table} e
       ON e.${rate.timeColumn} >= b.start_at AND e.${rate.timeColumn} < b.end_at
      AND e.service_id IN (SELECT id FROM selected)
      AND ${rate.condition?.sql ?? "true"}
     GROUP BY b.idx, b.seconds
     ORDER BY b.idx`,
    [...bucketParams(buckets, serviceIds), ...(rate.condition?.params ?? [])],
  );
  return rows.map((row) =>
    Number(row.services) === 0
      ? noServices(rate.unit)
      : { value: row.rate, unit: rate.unit, sampleSize: Number(row.events) },
  );
}

/** Incidents opened per week, per bucket. */
export function queryIncidentFrequency(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  return queryEventRate(db, buckets, serviceIds, {
    table: "incident",
    timeColumn: "opened_at",
    periodSeconds: 604800,
    unit: "per_week",
  });
}

/**
 * Deployments per day, per bucket, of the given environments; null counts
 * every environment.
 */
export function queryDeploymentFrequency(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds: number[] | undefined,
  environments: string[] | null,
): Promise<KpiValue[]> {
  return queryEventRate(db, buckets, serviceIds, {
    table: "deployment",
    timeColumn: "deployed_at",
    periodSeconds: 86400,
    unit: "per_day",
    condition: { sql: "($4::text[] IS NULL OR e.environment = ANY($4::text[]))", params: [environments] },
  });
}

// Series of the selected services named as their request or error metric.
const COUNTER_CTES = `
  counter_service AS (
    SELECT s.id, s.request_metric, s.error_metric
    FROM service s
    WHERE s.id IN (SELECT id FROM selected)
      AND s.request_metric IS NOT NULL AND s.error_metric IS NOT NULL
  ),
  counter_series AS (
    SELECT ms.id,
           ms.name = c.request_metric AS is_request,
           ms.name = c.error_metric AS is_error
    FROM counter_service c
    JOIN metric_series ms
      ON ms.service_id = c.id
     AND ms.name IN (c.request_metric, c.error_metric)
  )`;

// Sums per bucket straight from data_point: the reference that the rollup
// query must equal. Sums are numeric, because float8 sums of values near
// its maximum overflow and fail the whole query.
const TOTAL_FROM_POINTS = `
  total AS (
    SELECT b.idx,
           sum(p.value::numeric) FILTER (WHERE cs.is_request) AS requests,
           sum(p.value::numeric) FILTER (WHERE cs.is_error) AS errors
    FROM bucket b
    CROSS JOIN counter_series cs
    JOIN data_point p
      ON p.series_id = cs.id AND p.ts >= b.start_at AND p.ts < b.end_at
    GROUP BY b.idx
  )`;

// Sums per bucket from the segments of lib/kpi/segments.ts ($4..$7): whole
// days and hours from the rollups, edges from data_point. An hour listed in
// series_rollup_pending has a stale or missing rollup, so it is read from
// data_point, and a day with such an hour is read hour by hour. The rollup
// sums are numeric sums of the same values, so the totals equal
// TOTAL_FROM_POINTS exactly, whatever the fold has caught up with.
const TOTAL_FROM_ROLLUPS = `
  segment AS (
    SELECT s.idx, s.source, s.start_at, s.end_at
    FROM unnest($4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[])
      AS s(idx, source, start_at, end_at)
  ),
  pending AS (
    SELECT q.series_id, q.bucket_start
    FROM series_rollup_pending q
    WHERE q.series_id IN (SELECT id FROM counter_series)
  ),
  pending_day AS (
    SELECT DISTINCT q.series_id,
           date_bin('1 day', q.bucket_start, TIMESTAMPTZ '1970-01-01 00:00:00+00')
             AS day_start
    FROM pending q
  ),
  part AS (
    SELECT s.idx, d.series_id, d.sum
    FROM segment s
    CROSS JOIN counter_series cs
    JOIN series_rollup_day d
      ON d.series_id = cs.id
     AND d.bucket_start >= s.start_at AND d.bucket_start < s.end_at
    WHERE s.source = 'day'
      AND NOT EXISTS (SELECT 1 FROM pending_day pd
                      WHERE pd.series_id = d.series_id
                        AND pd.day_start = d.bucket_start)
    UNION ALL
    SELECT s.idx, h.series_id, h.sum
    FROM segment s
    CROSS JOIN counter_series cs
    JOIN series_rollup_hour h
      ON h.series_id = cs.id
     AND h.bucket_start >= s.start_at AND h.bucket_start < s.end_at
    WHERE s.source = 'hour'
      AND NOT EXISTS (SELECT 1 FROM pending q
                      WHERE q.series_id = h.series_id
                        AND q.bucket_start = h.bucket_start)
    UNION ALL
    SELECT s.idx, h.series_id, h.sum
    FROM segment s
    JOIN pending_day pd
      ON pd.day_start >= s.start_at AND pd.day_start < s.end_at
    JOIN series_rollup_hour h
      ON h.series_id = pd.series_id
     AND h.bucket_start >= pd.day_start
     AND h.bucket_start < pd.day_start + interval '24 hours'
    WHERE s.source = 'day'
      AND NOT EXISTS (SELECT 1 FROM pending q
                      WHERE q.series_id = h.series_id
                        AND q.bucket_start = h.bucket_start)
    UNION ALL
    SELECT s.idx, q.series_id, p.value::numeric
    FROM segment s
    JOIN pending q
      ON q.bucket_start >= s.start_at AND q.bucket_start < s.end_at
    JOIN data_point p
      ON p.series_id = q.series_id
     AND p.ts >= q.bucket_start AND p.ts < q.bucket_start + interval '1 hour'
    WHERE s.source IN ('hour', 'day')
    UNION ALL
    SELECT s.idx, cs.id, p.value::numeric
    FROM segment s
    CROSS JOIN counter_series cs
    JOIN data_point p
      ON p.series_id = cs.id AND p.ts >= s.start_at AND p.ts < s.end_at
    WHERE s.source = 'points'
  ),
  total AS (
    SELECT part.idx,
           sum(part.sum) FILTER (WHERE cs.is_request) AS requests,
           sum(part.sum) FILTER (WHERE cs.is_error) AS errors
    FROM part
    JOIN counter_series cs ON cs.id = part.series_id
    GROUP BY part.idx
  )`;

type ErrorRateRow = {
  services: string;
  counter_services: string;
  requests: number;
  ratio: number | null;
};

async function queryErrorRateWith(
  db: Queryable,
  totalCte: string,
  params: unknown[],
): Promise<KpiValue[]> {
  const { rows } = await db.query<ErrorRateRow>(
    `WITH ${COMMON_CTES}, ${COUNTER_CTES}, ${totalCte}
     SELECT (SELECT count(*) FROM selected) AS services,
            (SELECT count(*) FROM counter_service) AS counter_services,
            LEAST(coalesce(t.requests, 0), 1e300)::float8 AS requests,
            CASE WHEN t.requests > 0
                 THEN LEAST(coalesce(t.errors, 0) / t.requests, 1e300)::float8
            END AS ratio
     FROM bucket b
     LEFT JOIN total t ON t.idx = b.idx
     ORDER BY b.idx`,
    params,
  );
  return rows.map((row): KpiValue => {
    if (Number(row.services) === 0) return noServices("ratio");
    if (Number(row.counter_services) === 0) {
      return {
        value: null,
        unit: "ratio",
        sampleSize: 0,
        reason: KPI_NULL_REASONS.noErrorRateMetrics,
      };
    }
    if (!(row.requests > 0)) {
      return {
        value: null,
        unit: "ratio",
        sampleSize: 0,
        reason: KPI_NULL_REASONS.noRequests,
      };
    }
    return {
      value: row.ratio,
      unit: "ratio",
      sampleSize: Math.round(row.requests),
    };
  });
}

/**
 * Error rate per bucket: errors / requests, summed over the series that the
 * selected services name as their error and request metrics. Reads the
 * rollups for whole hours and days, so its cost follows the range and the
 * number of series rather than the number of points.
 */
export function queryErrorRate(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  const segments = splitBuckets(buckets);
  return queryErrorRateWith(db, TOTAL_FROM_ROLLUPS, [
    ...bucketParams(buckets, serviceIds),
    // idx in the bucket CTE counts from 1.
    segments.map((segment) => segment.index + 1),
    segments.map((segment) => segment.source),
    segments.map((segment) => new Date(segment.start).toISOString()),
    segments.map((segment) => new Date(segment.end).toISOString()),
  ]);
}

/**
 * The same error rate as queryErrorRate, summed from every data point in
 * the range. Tests and the dashboard benchmark use it as the reference.
 */
export function queryErrorRateFromPoints(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds?: number[],
): Promise<KpiValue[]> {
  return queryErrorRateWith(
    db,
    TOTAL_FROM_POINTS,
    bucketParams(buckets, serviceIds),
  );
}

/**
 * Change failure rate per bucket: the share of the successful deployments
 * in it that an incident of the same service followed within
 * `windowMinutes`. Only deployments of `environments` count, and null
 * counts every environment. The incident lookup uses the
 * (service_id, opened_at) index of incident once per deployment.
 */
export async function queryChangeFailureRate(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds: number[] | undefined,
  windowMinutes: number,
  environments: string[] | null,
): Promise<KpiValue[]> {
  const { rows } = await db.query<{
    services: string;
    deployments: string;
    failed: string;
  }>(
    `WITH ${COMMON_CTES},
     deployed AS (
       SELECT b.idx, d.id,
              EXISTS (
                SELECT 1 FROM incident i
                WHERE i.service_id = d.service_id
                  AND i.opened_at >= d.deployed_at
                  AND i.opened_at <= d.deployed_at + make_interval(mins => $4::int)
              ) AS failed
       FROM bucket b
       JOIN deployment d
         ON d.deployed_at >= b.start_at AND d.deployed_at < b.end_at
       WHERE d.status = 'success'
         AND d.service_id IN (SELECT id FROM selected)
         AND ($5::text[] IS NULL OR d.environment = ANY($5::text[]))
     )
     SELECT (SELECT count(*) FROM selected) AS services,
            count(d.id) AS deployments,
            count(d.id) FILTER (WHERE d.failed) AS failed
     FROM bucket b
     LEFT JOIN deployed d ON d.idx = b.idx
     GROUP BY b.idx
     ORDER BY b.idx`,
    [...bucketParams(buckets, serviceIds), windowMinutes, environments],
  );
  return rows.map((row): KpiValue => {
    if (Number(row.services) === 0) return noServices("ratio");
    const deployments = Number(row.deployments);
    if (deployments === 0) {
      return {
        value: null,
        unit: "ratio",
        sampleSize: 0,
        reason: KPI_NULL_REASONS.noSuccessfulDeployment,
      };
    }
    return {
      value: Number(row.failed) / deployments,
      unit: "ratio",
      sampleSize: deployments,
    };
  });
}

/**
 * Lead time for changes per bucket: the median of deployed_at - commit_at
 * over the successful deployments in it that carry a commit time and
 * belong to `environments` (null: every environment).
 */
export async function queryLeadTime(
  db: Queryable,
  buckets: KpiBucket[],
  serviceIds: number[] | undefined,
  environments: string[] | null,
): Promise<KpiValue[]> {
  const { rows } = await db.query<MeanSecondsRow>(
    `WITH ${COMMON_CTES}
     SELECT (SELECT count(*) FROM selected) AS services,
            percentile_cont(0.5) WITHIN GROUP (
              ORDER BY extract(epoch FROM d.deployed_at - d.commit_at)
            )::float8 AS mean_seconds,
            count(d.id) AS samples
     FROM bucket b
     LEFT JOIN deployment d
       ON d.deployed_at >= b.start_at AND d.deployed_at < b.end_at
      AND d.status = 'success'
      AND d.commit_at IS NOT NULL
      AND d.service_id IN (SELECT id FROM selected)
      AND ($4::text[] IS NULL OR d.environment = ANY($4::text[]))
     GROUP BY b.idx
     ORDER BY b.idx`,
    [...bucketParams(buckets, serviceIds), environments],
  );
  // toMeanSeconds only maps the column, which contains the median here.
  return toMeanSeconds(rows, KPI_NULL_REASONS.noCommitTime);
}
