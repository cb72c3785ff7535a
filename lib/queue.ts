import { runMigrations } from "graphile-worker";
import type pg from "pg";

// The job queue is graphile-worker's, in the graphile_worker schema of the
// same database. Jobs are added with SQL so that an ingest transaction and
// the jobs it causes commit together: a crash loses neither or both.

export const TASK_SCORE_SERIES = "score-series";

export type ScoreSeriesPayload = { seriesId: number };

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
 */
export async function enqueueSeriesScoring(
  db: Queryable,
  seriesIds: readonly number[],
  options: { delaySeconds?: number } = {},
): Promise<void> {
  if (seriesIds.length === 0) return;
  const delay = options.delaySeconds ?? 2;
  await db.query(
    `SELECT graphile_worker.add_job(
       $1::text,
       json_build_object('seriesId', id),
       run_at := now() + make_interval(secs => $3::double precision),
       job_key := 'score-series:' || id,
       job_key_mode := 'preserve_run_at',
       max_attempts := 5
     )
     FROM unnest($2::int[]) AS id`,
    [TASK_SCORE_SERIES, [...new Set(seriesIds)], delay],
  );
}
