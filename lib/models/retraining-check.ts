import type { TrainingMetrics } from "@/lib/detector/model";
import {
  DEFAULT_RETRAIN_POLICY,
  measureDrift,
  retrainReason,
  type DriftMeasures,
  type RetrainPolicy,
  type RetrainReason,
} from "@/lib/detector/retrain-policy";
import type { Queryable } from "@/lib/incidents/events";
import type { Logger } from "@/lib/logger";
import { requestTraining, WORKER_ACTOR } from "@/lib/models/training-jobs";

// The retraining check that the score-series job runs after scoring: every
// checkEveryPoints scored points it measures drift of the serving model,
// stores the measurement in model_drift, and queues a training job when
// retrainReason returns a reason (schedule or drift). The NAB replay
// (lib/detector/replay.ts) makes the same decisions with the same policy
// functions and the same inputs: the newest driftWindowPoints values and
// raw scores, and the points since the retraining clock started.
// NOTE: the check runs once per scoring job. A job that scores a backlog of
// many times checkEveryPoints (a backfill) checks once at its end, where
// the replay would have checked, and possibly retrained, at every multiple.

export type RetrainingCheck =
  | { measured: false; pointsSinceCheck: number }
  | {
      measured: true;
      drift: DriftMeasures;
      pointsSince: number;
      reason: RetrainReason | null;
      /** Training job queued for the reason, or the one already open. */
      trainingJobId: number | null;
    };

type ServingRow = {
  metrics: TrainingMetrics;
  point_count: number;
  drift_blocked: boolean;
  clock_start: Date;
  last_check: Date | null;
  scored_until: Date | null;
};

/** Counts the points of a series in (after, until]. */
async function countPoints(
  db: Queryable,
  seriesId: number,
  after: Date,
  until: Date,
): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM data_point
      WHERE series_id = $1 AND ts > $2 AND ts <= $3`,
    [seriesId, after, until],
  );
  return rows[0]!.count;
}

/**
 * Runs the retraining check for a series after its points up to
 * scored_until were scored by `modelVersionId`. Call it inside the scoring
 * transaction, so that the measurement and a queued training commit with
 * the scores.
 */
export async function checkRetraining(
  db: Queryable,
  seriesId: number,
  modelVersionId: number,
  log: Logger,
  policy: RetrainPolicy = DEFAULT_RETRAIN_POLICY,
): Promise<RetrainingCheck> {
  // The retraining clock starts at the version's schedule_from: the end of
  // its training window, or the newest point when it was rolled back to. A
  // training that did not replace it restarts the clock at its newest
  // point, as in the replay, so a rejected candidate waits a full period.
  const { rows } = await db.query<ServingRow>(
    `SELECT m.metrics, m.point_count,
            -- A candidate rejected while this version serves blocks drift
            -- retraining until a candidate serves, as in the replay.
            EXISTS (SELECT 1 FROM model_version r
                     WHERE r.series_id = m.series_id AND r.status = 'rejected'
                       AND r.created_at > COALESCE(m.activated_at, m.created_at))
              AS drift_blocked,
            GREATEST(COALESCE(m.schedule_from, m.trained_to),
                     (SELECT max(t.data_until) FROM model_training_job t
                       WHERE t.series_id = m.series_id
                         AND (t.status = 'failed'
                              OR (t.status = 'succeeded'
                                  AND t.model_version_id IS DISTINCT FROM m.id))))
              AS clock_start,
            (SELECT max(d.scored_until) FROM model_drift d
              WHERE d.series_id = m.series_id) AS last_check,
            s.scored_until
       FROM model_version m JOIN metric_series s ON s.id = m.series_id
      WHERE m.id = $1 AND m.series_id = $2`,
    [modelVersionId, seriesId],
  );
  const serving = rows[0];
  if (!serving?.scored_until) return { measured: false, pointsSinceCheck: 0 };
  const scoredUntil = serving.scored_until;

  const checkFrom =
    serving.last_check && serving.last_check > serving.clock_start
      ? serving.last_check
      : serving.clock_start;
  const pointsSinceCheck = await countPoints(
    db,
    seriesId,
    checkFrom,
    scoredUntil,
  );
  if (pointsSinceCheck < policy.checkEveryPoints) {
    return { measured: false, pointsSinceCheck };
  }

  const pointsSince = await countPoints(
    db,
    seriesId,
    serving.clock_start,
    scoredUntil,
  );
  const recentValues = await db.query<{ value: number }>(
    `SELECT value FROM data_point
      WHERE series_id = $1 AND ts <= $2
      ORDER BY ts DESC LIMIT $3`,
    [seriesId, scoredUntil, policy.driftWindowPoints],
  );
  const recentScores = await db.query<{ score: number }>(
    `SELECT score FROM anomaly_score
      WHERE series_id = $1 AND ts <= $2
      ORDER BY ts DESC LIMIT $3`,
    [seriesId, scoredUntil, policy.driftWindowPoints],
  );
  const values = recentValues.rows.map((row) => row.value).reverse();
  const scores = recentScores.rows
    .map((row) => row.score)
    .filter((score) => Number.isFinite(score))
    .reverse();
  const drift = measureDrift(serving.metrics, values, scores);
  // After a rejected candidate only the schedule retrains, because the
  // drift that triggered it is usually still there.
  const reason = retrainReason(
    pointsSince,
    serving.drift_blocked ? { inputPsi: null, scorePsi: null } : drift,
    policy,
    serving.point_count,
  );

  let trainingJobId: number | null = null;
  if (reason) {
    const requested = await requestTraining(
      db,
      seriesId,
      reason,
      WORKER_ACTOR,
    );
    trainingJobId = requested.job.id;
    log.info(
      {
        modelVersionId,
        reason,
        inputPsi: drift.inputPsi,
        scorePsi: drift.scorePsi,
        pointsSince,
        trainingJobId,
        queued: requested.created,
      },
      requested.created
        ? "retraining queued"
        : "retraining due, a training job is already open",
    );
  }

  await db.query(
    `INSERT INTO model_drift
       (series_id, model_version_id, scored_until, input_psi, score_psi,
        points, score_points, points_since, retrain_reason, training_job_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::"ModelReason", $10)`,
    [
      seriesId,
      modelVersionId,
      scoredUntil,
      finiteOrNull(drift.inputPsi),
      finiteOrNull(drift.scorePsi),
      values.length,
      scores.length,
      pointsSince,
      reason,
      trainingJobId,
    ],
  );
  log.debug(
    { modelVersionId, ...drift, pointsSince, reason },
    "model drift measured",
  );
  return { measured: true, drift, pointsSince, reason, trainingJobId };
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}
