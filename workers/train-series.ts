import type pg from "pg";

import packageJson from "@/package.json" with { type: "json" };
import { getConfig } from "@/lib/config";
import {
  DEFAULT_PARAMS,
  disposeModel,
  firstScoredIndex,
  forecastResiduals,
  loadModel,
  scoreSeries,
  trainModel,
  type LoadedModel,
  type ModelParams,
} from "@/lib/detector/model";
import {
  loadActiveModel,
  storeModelVersion,
} from "@/lib/detector/model-store";
import {
  parseDetectorState,
  rescaleDetectorState,
} from "@/lib/detector/pipeline";
import {
  candidateServes,
  DEFAULT_RETRAIN_POLICY,
  meanSquaredError,
  type RetrainPolicy,
} from "@/lib/detector/retrain-policy";
import type { Logger } from "@/lib/logger";
import { planHoldout } from "@/lib/models/holdout-plan";
import { lockSeriesInTransaction } from "@/lib/models/series-lock";
import {
  finishTrainingJob,
  recordTrainingData,
  recordTrainingFailure,
  recordTrainingProgress,
  startTrainingAttempt,
  type TrainingJob,
} from "@/lib/models/training-jobs";
import { loadNewestPoints } from "@/workers/series-queries";

// The train-series job trains a candidate model on a series' history
// without its newest points (planHoldout), and compares it with the
// serving model on those held-out points. It stores the candidate as the
// active version (the previous one retires) or as rejected (kept and
// flagged). A version that
// starts serving gets the series' detector state rescaled to its raw
// scores, as in the NAB replay (lib/detector/replay.ts). Training runs
// outside any transaction and writes its progress per epoch. The version,
// the retirement and the job's outcome are written in one short
// transaction at the end, so a worker killed mid-training stores nothing
// and the retried job starts over.

export type TrainSeriesOptions = {
  policy?: RetrainPolicy;
  /** Overrides of the model's hyperparameters, for tests. */
  params?: Partial<ModelParams>;
  /** This attempt's number and the job's attempt limit; a failure of the
   * last attempt marks the training job failed. */
  attempt?: number;
  maxAttempts?: number;
  /** Called after each epoch, once its progress is written. */
  onEpochEnd?: (epochsDone: number, totalEpochs: number) => void | Promise<void>;
};

export type TrainSeriesResult =
  | { outcome: "skipped"; trainingJobId: number }
  | { outcome: "failed"; trainingJobId: number; message: string }
  | {
      outcome: "activated" | "rejected";
      trainingJobId: number;
      modelVersionId: number;
      version: number;
      currentError: number;
      candidateError: number;
    };

type StoredCandidate = Exclude<
  TrainSeriesResult,
  { outcome: "skipped" | "failed" }
>;

/** Thrown for a job that can never succeed, so it is not retried. */
class TrainingInputError extends Error {}

type Candidate = {
  model: LoadedModel;
  record: Awaited<ReturnType<typeof trainModel>>;
  values: number[];
  holdoutStart: number;
  span: { trainedFrom: Date; trainedTo: Date; pointCount: number };
  dataUntil: Date;
};

async function trainCandidate(
  db: pg.ClientBase,
  job: TrainingJob,
  policy: RetrainPolicy,
  options: TrainSeriesOptions,
): Promise<Candidate> {
  const params = { ...DEFAULT_PARAMS, ...options.params };
  const { rows } = await db.query<{ count: number }>(
    "SELECT count(*)::int AS count FROM data_point WHERE series_id = $1",
    [job.seriesId],
  );
  const plan = planHoldout(
    rows[0]!.count,
    getConfig().VIGIL_MIN_TRAINING_POINTS,
    policy,
  );
  if (plan.problem) throw new TrainingInputError(plan.problem);
  const points = await loadNewestPoints(
    db,
    job.seriesId,
    params.maxTrainingPoints + plan.holdout,
  );
  const dataUntil = points.at(-1)!.ts;
  await recordTrainingData(db, job.id, dataUntil);

  const values = points.map((point) => point.value);
  const holdoutStart = values.length - plan.holdout;
  const trainingStart = Math.max(0, holdoutStart - params.maxTrainingPoints);
  const record = await trainModel(values.slice(0, holdoutStart), params, {
    onEpochEnd: async (epochsDone, totalEpochs) => {
      await recordTrainingProgress(db, job.id, epochsDone, totalEpochs);
      await options.onEpochEnd?.(epochsDone, totalEpochs);
    },
  });
  return {
    model: await loadModel(record),
    record,
    values,
    holdoutStart,
    span: {
      trainedFrom: points[trainingStart]!.ts,
      trainedTo: points[holdoutStart - 1]!.ts,
      pointCount: holdoutStart - trainingStart,
    },
    dataUntil,
  };
}

function holdoutError(
  model: LoadedModel,
  values: readonly number[],
  holdoutStart: number,
): number {
  return meanSquaredError(
    forecastResiduals(model, values, holdoutStart, values.length),
  );
}

/** Mean raw score (error / threshold) of a model over values[from..]. */
function meanRawScore(
  model: LoadedModel,
  values: readonly number[],
  from: number,
): number {
  const context = Math.max(0, from - firstScoredIndex(model.params));
  const points = scoreSeries(model, values.slice(context), from - context);
  let total = 0;
  for (const point of points) total += point.score;
  return total / points.length;
}

/**
 * Rescales the series' detector state to the new model's raw scores, as the
 * NAB replay does when a candidate serves. Each model's threshold comes from
 * its own training errors, so without this every deviation would shift.
 * `factor` is the candidate's mean raw score on the holdout divided by the
 * serving model's. The state is left as it is when the factor is unusable.
 */
async function carryDetectorState(
  db: pg.ClientBase,
  seriesId: number,
  factor: number,
): Promise<void> {
  if (!Number.isFinite(factor) || factor <= 0) return;
  const { rows } = await db.query<{ detector_state: unknown }>(
    "SELECT detector_state FROM metric_series WHERE id = $1",
    [seriesId],
  );
  if (rows[0]?.detector_state == null) return;
  const state = rescaleDetectorState(
    parseDetectorState(rows[0].detector_state),
    factor,
  );
  await db.query(
    "UPDATE metric_series SET detector_state = $2 WHERE id = $1",
    [seriesId, JSON.stringify(state)],
  );
}

/** Compares the candidate with the serving model and stores it, in one
 * transaction. Returns null when the job finished in another attempt. */
async function storeCandidate(
  db: pg.ClientBase,
  job: TrainingJob,
  candidate: Candidate,
  policy: RetrainPolicy,
): Promise<StoredCandidate | null> {
  await db.query("BEGIN");
  try {
    await lockSeriesInTransaction(db, job.seriesId);
    const { rows } = await db.query<{ status: string }>(
      `SELECT status FROM model_training_job WHERE id = $1 FOR UPDATE`,
      [job.id],
    );
    if (rows[0]?.status !== "running" && rows[0]?.status !== "queued") {
      await db.query("ROLLBACK");
      return null;
    }

    const { values, holdoutStart } = candidate;
    const candidateError = holdoutError(candidate.model, values, holdoutStart);
    const serving = await loadActiveModel(db, job.seriesId);
    let currentError = Number.NaN;
    let scaleFactor = Number.NaN;
    if (serving) {
      const servingModel = await loadModel(serving.record);
      try {
        currentError = holdoutError(servingModel, values, holdoutStart);
        scaleFactor =
          meanRawScore(candidate.model, values, holdoutStart) /
          meanRawScore(servingModel, values, holdoutStart);
      } finally {
        disposeModel(servingModel);
      }
    }
    const serves = candidateServes(currentError, candidateError, policy);
    if (serves) await carryDetectorState(db, job.seriesId, scaleFactor);
    const stored = await storeModelVersion(
      db,
      job.seriesId,
      candidate.record,
      { ...candidate.span, codeVersion: packageJson.version },
      {
        status: serves ? "active" : "rejected",
        reason: job.reason,
        requestedBy: job.requestedByName,
        trainingJobId: job.id,
        evaluation: {
          comparedVersionId: serving?.id ?? null,
          points: values.length - holdoutStart,
          currentError,
          candidateError,
        },
      },
    );
    const outcome: StoredCandidate["outcome"] = serves ? "activated" : "rejected";
    const comparison = serving
      ? `holdout error ${formatError(candidateError)} against ` +
        `${formatError(currentError)} of version ${serving.version}`
      : `holdout error ${formatError(candidateError)}, no version was serving`;
    await finishTrainingJob(
      db,
      job.id,
      stored.id,
      serves
        ? `version ${stored.version} activated: ${comparison}`
        : `version ${stored.version} rejected and kept: ${comparison}, ` +
            `more than the ${Math.round(policy.tolerance * 100)}% tolerance`,
    );
    await db.query("COMMIT");
    return {
      outcome,
      trainingJobId: job.id,
      modelVersionId: stored.id,
      version: stored.version,
      currentError,
      candidateError,
    };
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function formatError(value: number): string {
  return Number.isFinite(value) ? value.toPrecision(4) : "n/a";
}

/**
 * Runs one attempt of a training job on `db`, a dedicated connection. A
 * failure is recorded on the job row and thrown, so that graphile-worker
 * retries it, unless the input can never succeed (too few points), which
 * fails the job at once.
 */
export async function runTrainSeries(
  db: pg.ClientBase,
  trainingJobId: number,
  log: Logger,
  options: TrainSeriesOptions = {},
): Promise<TrainSeriesResult> {
  const policy = options.policy ?? DEFAULT_RETRAIN_POLICY;
  const attempt = options.attempt ?? 1;
  const maxAttempts = options.maxAttempts ?? 1;
  const job = await startTrainingAttempt(db, trainingJobId, attempt);
  if (!job) {
    log.info({ trainingJobId }, "training job already finished, skipping");
    return { outcome: "skipped", trainingJobId };
  }
  const jobLog = log.child({ trainingJobId, seriesId: job.seriesId });
  const started = performance.now();

  let candidate: Candidate | undefined;
  try {
    candidate = await trainCandidate(db, job, policy, options);
    const result = await storeCandidate(db, job, candidate, policy);
    if (!result) {
      jobLog.info("training job finished in another attempt, skipping");
      return { outcome: "skipped", trainingJobId };
    }
    jobLog.info(
      {
        outcome: result.outcome,
        reason: job.reason,
        modelVersionId: result.modelVersionId,
        version: result.version,
        currentError: result.currentError,
        candidateError: result.candidateError,
        trainingMs: candidate.record.trainingMs,
        durationMs: Math.round(performance.now() - started),
      },
      result.outcome === "activated"
        ? "retrained model activated"
        : "retrained model rejected: worse than the serving model on the holdout",
    );
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TrainingInputError) {
      await recordTrainingFailure(db, job.id, message, true);
      jobLog.warn({ reason: message }, "training job failed, not retrying");
      return { outcome: "failed", trainingJobId, message };
    }
    // job.attempts also counts attempts lost with a dead worker.
    const final = job.attempts >= maxAttempts;
    await recordTrainingFailure(
      db,
      job.id,
      final
        ? `attempt ${job.attempts} of ${maxAttempts} failed: ${message}`
        : `attempt ${job.attempts} of ${maxAttempts} failed, retrying: ${message}`,
      final,
    ).catch((recordError: unknown) => {
      jobLog.error({ err: recordError }, "could not record the training failure");
    });
    jobLog.error(
      { err: error, attempt: job.attempts, maxAttempts },
      final ? "training job failed" : "training attempt failed, the job will retry",
    );
    throw error;
  } finally {
    if (candidate) disposeModel(candidate.model);
  }
}
