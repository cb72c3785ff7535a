import type pg from "pg";

// Maintains series_rollup_hour and series_rollup_day, the per-series
// rollups of data_point that the error-rate KPI reads for whole hours and
// days (lib/kpi/segments.ts). Triggers on data_point (migration
// 20261205020000_kpi_rollups) add every hour whose points change to
// series_rollup_pending in the writer's own transaction. A fold claims
// pending hours, recomputes each from data_point, recomputes their days from
// the hourly rows, and deletes the claimed rows, all in one transaction.
//
// Recomputing instead of adding new points makes a fold idempotent: a crash
// before COMMIT rolls everything back and the hours stay pending, and
// folding an hour again gives the same row, so nothing is counted twice.
// Late points mark their own hour pending like any other point.

/** A client that the fold can run BEGIN and COMMIT on. */
export type FoldClient = Pick<pg.ClientBase, "query">;

// First key of the two-key advisory lock on a series' daily rollups ("VGR"
// in ASCII). The series lock of lib/models/series-lock.ts uses 0x5647.
export const ROLLUP_LOCK_CLASS = 0x564752;

/** Pending hours one fold claims; each hour is about 60 points at one a minute. */
export const DEFAULT_FOLD_BATCH_HOURS = 2000;

export type FoldResult = {
  /** Pending hours claimed and recomputed. */
  hours: number;
  /** Daily rollup rows written, recomputed from the hourly rows. */
  days: number;
};

const EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'";

/**
 * Folds up to `batchHours` pending hours into the rollups in one
 * transaction on `client`, which must not be inside a transaction. Pending
 * hours that another fold has locked are skipped, so several workers can fold at
 * once. Returns zero hours when nothing is pending.
 */
export async function foldPendingRollups(
  client: FoldClient,
  batchHours = DEFAULT_FOLD_BATCH_HOURS,
): Promise<FoldResult> {
  if (!Number.isInteger(batchHours) || batchHours < 1) {
    throw new RangeError(`batchHours must be a positive integer, got ${batchHours}`);
  }
  // READ COMMITTED on purpose: each statement below takes a new snapshot,
  // so the recompute sees every point whose pending row this fold locked.
  await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
  try {
    const result = await foldInTransaction(client, batchHours);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

async function foldInTransaction(
  client: FoldClient,
  batchHours: number,
): Promise<FoldResult> {
  // A writer that adds points to a claimed hour waits on the row lock in its
  // ON CONFLICT DO UPDATE until this transaction ends, then marks the hour
  // again. So every point that is not in the snapshots below stays pending.
  const claimed = await client.query<{ series_id: number; bucket_start: Date }>(
    `SELECT series_id, bucket_start
     FROM series_rollup_pending
     ORDER BY series_id, bucket_start
     LIMIT $1
     FOR UPDATE SKIP LOCKED`,
    [batchHours],
  );
  if (claimed.rows.length === 0) return { hours: 0, days: 0 };

  const seriesIds = claimed.rows.map((row) => row.series_id);
  const starts = claimed.rows.map((row) => row.bucket_start.toISOString());

  await client.query(
    `WITH claimed AS (
       SELECT * FROM unnest($1::int[], $2::timestamptz[]) AS c(series_id, bucket_start)
     ),
     total AS (
       SELECT c.series_id, c.bucket_start,
              count(p.ts)::int AS count,
              sum(p.value::numeric) AS sum,
              min(p.value) AS min,
              max(p.value) AS max
       FROM claimed c
       LEFT JOIN data_point p
         ON p.series_id = c.series_id
        AND p.ts >= c.bucket_start
        AND p.ts < c.bucket_start + interval '1 hour'
       GROUP BY c.series_id, c.bucket_start
     ),
     emptied AS (
       DELETE FROM series_rollup_hour h
       USING total t
       WHERE t.count = 0
         AND h.series_id = t.series_id
         AND h.bucket_start = t.bucket_start
     )
     INSERT INTO series_rollup_hour (series_id, bucket_start, count, sum, min, max)
     SELECT series_id, bucket_start, count, sum, min, max
     FROM total
     WHERE count > 0
     ORDER BY series_id, bucket_start
     ON CONFLICT (series_id, bucket_start) DO UPDATE
       SET count = excluded.count, sum = excluded.sum,
           min = excluded.min, max = excluded.max`,
    [seriesIds, starts],
  );

  // Two folds may recompute the same day from different hours. The lock
  // makes the second wait, and its next statement then sees the first's
  // hours. Locks go in series order, so folds cannot deadlock.
  const lockedSeries = [...new Set(seriesIds)].sort((a, b) => a - b);
  await client.query(
    `SELECT pg_advisory_xact_lock($1, id)
     FROM (SELECT id FROM unnest($2::int[]) AS id ORDER BY id) AS ordered`,
    [ROLLUP_LOCK_CLASS, lockedSeries],
  );

  const days = await client.query(
    `WITH day AS (
       SELECT DISTINCT c.series_id,
              date_bin('1 day', c.bucket_start, ${EPOCH}) AS bucket_start
       FROM unnest($1::int[], $2::timestamptz[]) AS c(series_id, bucket_start)
     ),
     total AS (
       SELECT d.series_id, d.bucket_start,
              coalesce(sum(h.count), 0)::int AS count,
              sum(h.sum) AS sum,
              min(h.min) AS min,
              max(h.max) AS max
       FROM day d
       LEFT JOIN series_rollup_hour h
         ON h.series_id = d.series_id
        AND h.bucket_start >= d.bucket_start
        AND h.bucket_start < d.bucket_start + interval '24 hours'
       GROUP BY d.series_id, d.bucket_start
     ),
     emptied AS (
       DELETE FROM series_rollup_day r
       USING total t
       WHERE t.count = 0
         AND r.series_id = t.series_id
         AND r.bucket_start = t.bucket_start
     )
     INSERT INTO series_rollup_day (series_id, bucket_start, count, sum, min, max)
     SELECT series_id, bucket_start, count, sum, min, max
     FROM total
     WHERE count > 0
     ORDER BY series_id, bucket_start
     ON CONFLICT (series_id, bucket_start) DO UPDATE
       SET count = excluded.count, sum = excluded.sum,
           min = excluded.min, max = excluded.max
     RETURNING 1`,
    [seriesIds, starts],
  );

  await client.query(
    `DELETE FROM series_rollup_pending q
     USING unnest($1::int[], $2::timestamptz[]) AS c(series_id, bucket_start)
     WHERE q.series_id = c.series_id AND q.bucket_start = c.bucket_start`,
    [seriesIds, starts],
  );
  return { hours: claimed.rows.length, days: days.rowCount ?? 0 };
}

/**
 * Folds batches until no pending hour is left or `deadline` (epoch ms)
 * passes. Returns the totals of every batch.
 */
export async function foldAllPendingRollups(
  client: FoldClient,
  options: { batchHours?: number; deadline?: number } = {},
): Promise<FoldResult> {
  const total: FoldResult = { hours: 0, days: 0 };
  for (;;) {
    if (options.deadline !== undefined && Date.now() >= options.deadline) break;
    const batch = await foldPendingRollups(client, options.batchHours);
    if (batch.hours === 0) break;
    total.hours += batch.hours;
    total.days += batch.days;
  }
  return total;
}
