import type {
  ActorType,
  ModelReason,
  TrainingJobStatus,
} from "@/lib/generated/prisma/enums";
import type { Queryable } from "@/lib/incidents/events";

// Training jobs of series models: a model_training_job row that people see
// on the Models page, and a graphile-worker job (task train-series) that
// runs it. Both are written in the caller's transaction, so a request and
// its job commit together. The job key "train-series:<seriesId>" and a
// partial unique index keep at most one open training per series.

export const TASK_TRAIN_SERIES = "train-series";
export const TRAIN_SERIES_MAX_ATTEMPTS = 3;

export type TrainSeriesPayload = { seriesId: number; trainingJobId: number };

/** Requester of a training: a user, an API token or the worker itself. */
export type TrainingActor = {
  type: ActorType;
  id: number | null;
  name: string;
};

export const WORKER_ACTOR: TrainingActor = {
  type: "worker",
  id: null,
  name: "worker",
};

export type TrainingJob = {
  id: number;
  seriesId: number;
  reason: ModelReason;
  requestedByType: ActorType;
  requestedByName: string;
  status: TrainingJobStatus;
  epochsDone: number;
  epochsTotal: number | null;
  attempts: number;
  message: string | null;
  dataUntil: Date | null;
  modelVersionId: number | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
};

type TrainingJobRow = {
  id: number;
  series_id: number;
  reason: ModelReason;
  requested_by_type: ActorType;
  requested_by_name: string;
  status: TrainingJobStatus;
  epochs_done: number;
  epochs_total: number | null;
  attempts: number;
  message: string | null;
  data_until: Date | null;
  model_version_id: number | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
};

export const TRAINING_JOB_COLUMNS = `id, series_id, reason, requested_by_type,
  requested_by_name, status, epochs_done, epochs_total, attempts, message,
  data_until, model_version_id, created_at, started_at, finished_at,
  updated_at`;

export function toTrainingJob(row: TrainingJobRow): TrainingJob {
  return {
    id: row.id,
    seriesId: row.series_id,
    reason: row.reason,
    requestedByType: row.requested_by_type,
    requestedByName: row.requested_by_name,
    status: row.status,
    epochsDone: row.epochs_done,
    epochsTotal: row.epochs_total,
    attempts: row.attempts,
    message: row.message,
    dataUntil: row.data_until,
    modelVersionId: row.model_version_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/** Adds or resets the graphile-worker job that runs a training job. */
export async function addTrainSeriesJob(
  db: Queryable,
  seriesId: number,
  trainingJobId: number,
): Promise<void> {
  const payload: TrainSeriesPayload = { seriesId, trainingJobId };
  await db.query(
    `SELECT graphile_worker.add_job($1::text, $2::json,
       max_attempts := $3::int, job_key := $4::text)`,
    [
      TASK_TRAIN_SERIES,
      JSON.stringify(payload),
      TRAIN_SERIES_MAX_ATTEMPTS,
      `${TASK_TRAIN_SERIES}:${seriesId}`,
    ],
  );
}

/**
 * Queues a training of the series' model unless one is queued or running
 * already. Returns the new job, or the open one with created false.
 */
export async function requestTraining(
  db: Queryable,
  seriesId: number,
  reason: ModelReason,
  actor: TrainingActor,
): Promise<{ job: TrainingJob; created: boolean }> {
  const inserted = await db.query<TrainingJobRow>(
    `INSERT INTO model_training_job
       (series_id, reason, requested_by_type, requested_by_id, requested_by_name)
     VALUES ($1, $2::"ModelReason", $3::"ActorType", $4, $5)
     ON CONFLICT (series_id) WHERE status IN ('queued', 'running') DO NOTHING
     RETURNING ${TRAINING_JOB_COLUMNS}`,
    [seriesId, reason, actor.type, actor.id, actor.name],
  );
  if (inserted.rows[0]) {
    await addTrainSeriesJob(db, seriesId, inserted.rows[0].id);
    return { job: toTrainingJob(inserted.rows[0]), created: true };
  }
  const open = await db.query<TrainingJobRow>(
    `SELECT ${TRAINING_JOB_COLUMNS} FROM model_training_job
      WHERE series_id = $1 AND status IN ('queued', 'running')`,
    [seriesId],
  );
  if (!open.rows[0]) {
    // The open job finished between the insert and this select.
    return requestTraining(db, seriesId, reason, actor);
  }
  return { job: toTrainingJob(open.rows[0]), created: false };
}

/** Loads the newest training jobs of a series, newest first. */
export async function listTrainingJobs(
  db: Queryable,
  seriesId: number,
  limit = 20,
): Promise<TrainingJob[]> {
  const { rows } = await db.query<TrainingJobRow>(
    `SELECT ${TRAINING_JOB_COLUMNS} FROM model_training_job
      WHERE series_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
    [seriesId, limit],
  );
  return rows.map(toTrainingJob);
}

/**
 * Marks a training job as running for a new attempt and returns it, or
 * null when it has finished already (a retry after the attempt that stored
 * its version) or does not exist. The returned job's attempts is this
 * attempt's number: one more than the attempts so far, which include those
 * of a worker that died, and at least graphile-worker's `attempt`.
 */
export async function startTrainingAttempt(
  db: Queryable,
  trainingJobId: number,
  attempt: number,
): Promise<TrainingJob | null> {
  const { rows } = await db.query<TrainingJobRow>(
    `UPDATE model_training_job
        SET status = 'running', attempts = GREATEST(attempts + 1, $2),
            epochs_done = 0,
            started_at = COALESCE(started_at, now()), message = NULL,
            updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'running')
      RETURNING ${TRAINING_JOB_COLUMNS}`,
    [trainingJobId, attempt],
  );
  return rows[0] ? toTrainingJob(rows[0]) : null;
}

/** Records the epochs done. Call it outside any transaction, so that the
 * Models page shows progress while the training runs. */
export async function recordTrainingProgress(
  db: Queryable,
  trainingJobId: number,
  epochsDone: number,
  epochsTotal: number,
): Promise<void> {
  await db.query(
    `UPDATE model_training_job
        SET epochs_done = $2, epochs_total = $3, updated_at = now()
      WHERE id = $1 AND status = 'running'`,
    [trainingJobId, epochsDone, epochsTotal],
  );
}

/** Records the newest point the training read. */
export async function recordTrainingData(
  db: Queryable,
  trainingJobId: number,
  dataUntil: Date,
): Promise<void> {
  await db.query(
    `UPDATE model_training_job SET data_until = $2, updated_at = now()
      WHERE id = $1`,
    [trainingJobId, dataUntil],
  );
}

/** Marks a job succeeded with its stored version. Call it in the
 * transaction that stores the version. */
export async function finishTrainingJob(
  db: Queryable,
  trainingJobId: number,
  modelVersionId: number,
  message: string,
): Promise<void> {
  await db.query(
    `UPDATE model_training_job
        SET status = 'succeeded', model_version_id = $2, message = $3,
            epochs_done = COALESCE(epochs_total, epochs_done),
            finished_at = now(), updated_at = now()
      WHERE id = $1`,
    [trainingJobId, modelVersionId, message],
  );
}

/**
 * Records a failed attempt: the job goes back to queued while graphile-worker
 * retries it, or becomes failed when `final`.
 */
export async function recordTrainingFailure(
  db: Queryable,
  trainingJobId: number,
  message: string,
  final: boolean,
): Promise<void> {
  await db.query(
    `UPDATE model_training_job
        SET status = $2::"TrainingJobStatus", message = $3,
            finished_at = CASE WHEN $2 = 'failed' THEN now() END,
            updated_at = now()
      WHERE id = $1 AND status IN ('queued', 'running')`,
    [trainingJobId, final ? "failed" : "queued", message],
  );
}

/**
 * Adds the graphile-worker job again for every open training job whose job
 * is missing, has used up its attempts, or has been locked for longer than
 * `staleMinutes` by a worker taken for dead. A job still marked running
 * lost its attempt with that worker: the attempt counts, and the job goes
 * back to queued with a message, or fails when it was the last attempt.
 * Adding the job with its key replaces a locked one, and the transaction
 * that stores a version checks the job row first, so a slow worker that
 * was not dead cannot store a second version for the same job.
 */
export async function requeueStaleTrainingJobs(
  db: Queryable,
  staleMinutes: number,
): Promise<{ requeued: number[]; failed: number[] }> {
  const { rows } = await db.query<{
    id: number;
    series_id: number;
    status: TrainingJobStatus;
    attempts: number;
  }>(
    `SELECT t.id, t.series_id, t.status, t.attempts FROM model_training_job t
      WHERE t.status IN ('queued', 'running')
        AND NOT EXISTS (
          SELECT 1 FROM graphile_worker._private_jobs j
           WHERE j.key = $1 || ':' || t.series_id
             AND ((j.locked_at IS NULL AND j.attempts < j.max_attempts)
                  OR j.locked_at > now() - make_interval(mins => $2)))
      ORDER BY t.id`,
    [TASK_TRAIN_SERIES, staleMinutes],
  );
  const requeued: number[] = [];
  const failed: number[] = [];
  for (const row of rows) {
    if (row.status === "running") {
      const final = row.attempts >= TRAIN_SERIES_MAX_ATTEMPTS;
      const lost = `the worker stopped during attempt ${row.attempts} of ${TRAIN_SERIES_MAX_ATTEMPTS}`;
      // The status check skips a job that a live worker finished meanwhile.
      const updated = await db.query(
        `UPDATE model_training_job
            SET status = $2::"TrainingJobStatus", message = $3,
                finished_at = CASE WHEN $2 = 'failed' THEN now() END,
                updated_at = now()
          WHERE id = $1 AND status = 'running'`,
        [
          row.id,
          final ? "failed" : "queued",
          final ? `${lost}; no attempts left` : `${lost}, retrying`,
        ],
      );
      if (updated.rowCount === 0) continue;
      if (final) {
        failed.push(row.id);
        continue;
      }
    }
    await addTrainSeriesJob(db, row.series_id, row.id);
    requeued.push(row.id);
  }
  return { requeued, failed };
}
