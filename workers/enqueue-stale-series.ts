import type pg from "pg";

import { enqueueSeriesScoring } from "@/lib/queue";

// Backstop for lost score-series jobs: finds series with points newer than
// scored_until, or never scored, and no live job, and enqueues them. A job
// whose worker died while holding it counts as lost after STALE_LOCK_MINUTES.
// A series whose job is queued, running or has failed all its attempts is
// left alone, because re-adding a job with the same key would reset its attempt
// count and retry a failing series forever. New points of such a series
// enqueue it again through ingest.

export const TASK_ENQUEUE_STALE_SERIES = "enqueue-stale-series";

/**
 * Age of a job lock after which its worker is taken for dead. graphile-worker
 * itself frees such a lock only after 4 hours. Adding the job again with its
 * key replaces the locked one, and the series' advisory lock keeps the two
 * from scoring at once if the old worker was only slow.
 */
export const STALE_LOCK_MINUTES = 10;

/** Enqueues every series with unscored points and returns their ids. */
export async function enqueueStaleSeries(
  db: Pick<pg.ClientBase, "query">,
  minTrainingPoints: number,
): Promise<number[]> {
  // A series without a model is only worth a job once it has enough points
  // to train on. OFFSET stops the scan at that count instead of counting all.
  const { rows } = await db.query<{ id: number }>(
    `SELECT s.id FROM metric_series s
      WHERE EXISTS (SELECT 1 FROM data_point p
                     WHERE p.series_id = s.id
                       AND p.ts > coalesce(s.scored_until, '-infinity'))
        AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs j
                         WHERE j.key = 'score-series:' || s.id
                           AND (j.locked_at IS NULL
                                OR j.locked_at > now() - make_interval(mins => $2)))
        AND (
          EXISTS (SELECT 1 FROM model_version m
                   WHERE m.series_id = s.id AND m.status = 'active')
          OR EXISTS (SELECT 1 FROM data_point p
                      WHERE p.series_id = s.id
                      OFFSET $1 - 1 LIMIT 1)
        )
      ORDER BY s.id`,
    [minTrainingPoints, STALE_LOCK_MINUTES],
  );
  const ids = rows.map((row) => row.id);
  await enqueueSeriesScoring(db, ids, { delaySeconds: 0 });
  return ids;
}
