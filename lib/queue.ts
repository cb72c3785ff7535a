import { runMigrations } from "graphile-worker";
import type pg from "pg";

// The job queue is graphile-worker's, in the graphile_worker schema of the
// same database. Jobs are added with SQL so that an ingest transaction and
// the jobs it causes commit together: a crash loses neither or both.

export const TASK_SCORE_SERIES = "score-series";
export const TASK_ENQUEUE_SCORING = "enqueue-scoring";
export const ENQUEUE_SCORING_MAX_ATTEMPTS = 10;

export type ScoreSeriesPayload = { seriesId: number };
export type EnqueueScoringPayload = { seriesIds: number[] };

/** Creates or upgrades the graphile_worker schema. */
export async function installQueueSchema(databaseUrl: string): Promise<void> {
  await runMigrations({ connectionString: databaseUrl });
}

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * Enqueues one score-series job per series. The job key coalesces bursts of
 * ingest into one pending job per series. Jobs of one series are serialised
 * by an advisory lock in the job itself, not by a named queue. A worker that
 * dies mid-job would hold a named queue locked until graphile-worker's
 * 4-hour lock timeout, whereas its advisory lock ends with its connection.
 *
 * add_jobs takes all series in one set-based statement. Calling add_job once
 * per series measured about 60 times slower for 2,000 series, which made
 * the job queue the bottleneck of ingest.
 */
export async function enqueueSeriesScoring(
  db: Queryable,
  seriesIds: readonly number[],
  options: { delaySeconds?: number } = {},
): Promise<void> {
  if (seriesIds.length === 0) return;
  const delay = options.delaySeconds ?? 2;
  // Sorted and without repeats: add_jobs upserts on the job key, and one
  // statement cannot update the same row twice.
  const ids = [...new Set(seriesIds)].sort((a, b) => a - b);
  await db.query(
    `SELECT count(*) FROM graphile_worker.add_jobs(
       ARRAY(
         SELECT ROW(
           $1::text,
           json_build_object('seriesId', id),
           NULL,
           now() + make_interval(secs => $3::double precision),
           5,
           'score-series:' || id,
           NULL,
           NULL
         )::graphile_worker.job_spec
         FROM unnest($2::int[]) WITH ORDINALITY AS t(id, ordinal)
         ORDER BY ordinal
       ),
       job_key_preserve_run_at := true
     )`,
    [TASK_SCORE_SERIES, ids, delay],
  );
}

/**
 * Adds one enqueue-scoring job for the series an ingest request wrote. The
 * worker turns it into score-series jobs, so that an ingest transaction
 * writes one job row instead of one per series. Upserting a keyed job per
 * series cost about as much as inserting the points themselves. Ingest adds
 * the same job inside its points insert (lib/ingest/store.ts).
 */
export async function enqueueScoringRequest(
  db: Queryable,
  seriesIds: readonly number[],
): Promise<void> {
  if (seriesIds.length === 0) return;
  await db.query(
    `SELECT graphile_worker.add_job($1::text, json_build_object('seriesIds', $2::int[]),
       max_attempts := $3::int)`,
    [TASK_ENQUEUE_SCORING, seriesIds, ENQUEUE_SCORING_MAX_ATTEMPTS],
  );
}
