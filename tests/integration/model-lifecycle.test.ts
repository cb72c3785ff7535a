import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { getConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { loadModel, scoreSeries, trainModel } from "@/lib/detector/model";
import { DEFAULT_PARAMS, inputLookback } from "@/lib/detector/params";
import { DEFAULT_RETRAIN_POLICY, holdoutSize } from "@/lib/detector/retrain-policy";
import { logger } from "@/lib/logger";
import {
  requestTraining,
  requeueStaleTrainingJobs,
  TASK_TRAIN_SERIES,
  TRAIN_SERIES_MAX_ATTEMPTS,
  type TrainingActor,
} from "@/lib/models/training-jobs";
import { truncateAll } from "@/tests/support/database";
import {
  createSeries,
  insertPoints,
  syntheticValues,
  toPoints,
  type Point,
} from "@/tests/support/model-series";
import { listModelOverview } from "@/lib/models/overview";
import { runWorker } from "@/workers/runner";
import { runScoreSeries } from "@/workers/score-series";
import { runTrainSeries } from "@/workers/train-series";

// The model lifecycle against a real database with the worker's own code.
// Covered: versions that training jobs store and another process loads, the
// holdout comparison, drift and schedule checks after scoring, progress
// rows, and a worker killed in the middle of a training.

const execFileAsync = promisify(execFile);
const log = logger.child({ test: "model-lifecycle" });
const ADA: TrainingActor = { type: "user", id: null, name: "Ada Admin" };
// Few epochs keep the tests quick, and the lifecycle does not depend on them.
const FAST = { params: { epochs: 4 } };
// A candidate always serves, for tests about versioning rather than quality.
const ALWAYS_SERVE = { ...DEFAULT_RETRAIN_POLICY, tolerance: 1e6 };

let db: pg.Client;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  return client;
}

async function versions(seriesId: number) {
  const { rows } = await db.query(
    `SELECT id, version, status, reason, requested_by, activated_at,
            training_job_id, compared_version_id, holdout_points,
            holdout_current_error, holdout_candidate_error, point_count,
            trained_to
       FROM model_version WHERE series_id = $1 ORDER BY version`,
    [seriesId],
  );
  return rows;
}

async function detectorState(seriesId: number) {
  const { rows } = await db.query(
    "SELECT detector_state FROM metric_series WHERE id = $1",
    [seriesId],
  );
  return rows[0].detector_state;
}

async function trainingJob(id: number) {
  const { rows } = await db.query(
    `SELECT status, reason, epochs_done, epochs_total, attempts, message,
            model_version_id, requested_by_name, data_until, finished_at
       FROM model_training_job WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** Returns a series length whose first scoring job stops short of a
 * retraining check, so that no training job is queued by the worker. */
function noCheckLength(): number {
  return getConfig().VIGIL_MIN_TRAINING_POINTS + DEFAULT_RETRAIN_POLICY.checkEveryPoints - 1;
}

/** Creates a series and lets the score-series job train its first model. */
async function seriesWithModel(values: number[] | Point[], name = "cpu") {
  const seriesId = await createSeries(db, name);
  const points =
    typeof values[0] === "number" ? toPoints(values as number[]) : (values as Point[]);
  await insertPoints(db, seriesId, points);
  const scored = await runScoreSeries(db, seriesId, log);
  expect(scored.trained).toBe(true);
  return seriesId;
}

beforeAll(async () => {
  db = await connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

describe("training job", () => {
  it("stores a version a fresh process can load", async () => {
    const values = syntheticValues({ count: noCheckLength() });
    const seriesId = await seriesWithModel(values);
    const stateBefore = await detectorState(seriesId);
    const { job, created } = await requestTraining(db, seriesId, "request", ADA);
    expect(created).toBe(true);

    const result = await runTrainSeries(db, job.id, log, {
      ...FAST,
      policy: ALWAYS_SERVE,
    });

    expect(result.outcome).toBe("activated");
    const rows = await versions(seriesId);
    expect(rows.map((row) => [row.version, row.status, row.reason])).toEqual([
      [1, "retired", "initial"],
      [2, "active", "request"],
    ]);
    const v2 = rows[1]!;
    expect(v2.requested_by).toBe("Ada Admin");
    expect(v2.activated_at).toBeInstanceOf(Date);
    expect(v2.training_job_id).toBe(job.id);
    expect(v2.compared_version_id).toBe(rows[0]!.id);
    const holdout = holdoutSize(values.length);
    expect(v2.holdout_points).toBe(holdout);
    expect(v2.holdout_current_error).toBeGreaterThan(0);
    expect(v2.holdout_candidate_error).toBeGreaterThan(0);
    const holdoutStart = values.length - holdout;
    expect(v2.point_count).toBe(holdoutStart);
    const finished = await trainingJob(job.id);
    expect(finished.status).toBe("succeeded");
    expect(finished.model_version_id).toBe(v2.id);
    expect(finished.epochs_done).toBe(4);
    expect(finished.epochs_total).toBe(4);
    expect(finished.message).toMatch(/^version 2 activated: holdout error/);

    // The detector state carries over, rescaled to the new model's raw
    // scores by one factor.
    const stateAfter = await detectorState(seriesId);
    const factor = stateAfter.mean / stateBefore.mean;
    expect(factor).toBeGreaterThan(0);
    expect(stateAfter.count).toBe(stateBefore.count);
    expect(stateAfter.recent).toHaveLength(stateBefore.recent.length);
    stateAfter.recent.forEach((score: number, index: number) => {
      expect(score).toBeCloseTo(stateBefore.recent[index] * factor, 9);
    });
    expect(stateAfter.variance).toBeCloseTo(stateBefore.variance * factor ** 2, 9);

    // The same training in this process, and the stored version scored by
    // another process, give the same errors: weights, normalisation and
    // threshold all come back from PostgreSQL.
    const local = await loadModel(
      await trainModel(values.slice(0, holdoutStart), FAST.params),
    );
    const expected = scoreSeries(local, values, holdoutStart).map(
      (point) => point.error,
    );
    const { stdout } = await execFileAsync(
      "node_modules/.bin/tsx",
      ["tests/support/score-stored-model.ts", String(seriesId), "2", String(holdoutStart)],
      { env: { ...process.env, LOG_LEVEL: "warn" } },
    );
    const fresh = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      threshold: number;
      scores: number[];
    };
    expect(fresh.threshold).toBe(local.record.threshold);
    expect(fresh.scores).toHaveLength(expected.length);
    fresh.scores.forEach((score, index) => {
      expect(score).toBeCloseTo(expected[index]!, 5);
    });
  });

  it("writes progress outside its transaction", async () => {
    const seriesId = await seriesWithModel(syntheticValues({ count: noCheckLength() }));
    const { job } = await requestTraining(db, seriesId, "request", ADA);
    const observer = await connect();
    const seen: Array<[number, number, string]> = [];
    try {
      await runTrainSeries(db, job.id, log, {
        ...FAST,
        policy: ALWAYS_SERVE,
        onEpochEnd: async () => {
          const { rows } = await observer.query(
            "SELECT epochs_done, epochs_total, status FROM model_training_job WHERE id = $1",
            [job.id],
          );
          seen.push([rows[0].epochs_done, rows[0].epochs_total, rows[0].status]);
        },
      });
    } finally {
      await observer.end();
    }
    expect(seen).toEqual([
      [1, 4, "running"],
      [2, 4, "running"],
      [3, 4, "running"],
      [4, 4, "running"],
    ]);
  });

  it("rejects and keeps a worse candidate", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const holdout = DEFAULT_RETRAIN_POLICY.holdoutPoints;
    // The first model learns the clean sine. The candidate trains mostly on
    // a stretch of loud noise and is compared on the sine that follows,
    // after enough sine that the holdout's inputs contain no noise.
    const cleanBeforeHoldout = inputLookback(DEFAULT_PARAMS) + 24;
    const values = syntheticValues({
      count: minimum + 1500 + cleanBeforeHoldout + holdout,
      chaos: { from: minimum, to: minimum + 1500, scale: 25 },
    });
    expect(holdoutSize(values.length)).toBe(holdout);
    const points = toPoints(values);
    const seriesId = await seriesWithModel(points.slice(0, minimum + 1));
    await insertPoints(db, seriesId, points);
    const stateBefore = await db.query(
      "SELECT detector_state FROM metric_series WHERE id = $1",
      [seriesId],
    );
    const { job } = await requestTraining(db, seriesId, "drift", ADA);

    const result = await runTrainSeries(db, job.id, log, FAST);

    expect(result.outcome).toBe("rejected");
    const rows = await versions(seriesId);
    expect(rows.map((row) => [row.version, row.status, row.reason])).toEqual([
      [1, "active", "initial"],
      [2, "rejected", "drift"],
    ]);
    expect(rows[1]!.activated_at).toBeNull();
    expect(rows[1]!.holdout_candidate_error).toBeGreaterThan(
      rows[1]!.holdout_current_error * (1 + DEFAULT_RETRAIN_POLICY.tolerance),
    );
    const finished = await trainingJob(job.id);
    expect(finished.status).toBe("succeeded");
    expect(finished.message).toMatch(/^version 2 rejected and kept/);
    const stateAfter = await db.query(
      "SELECT detector_state FROM metric_series WHERE id = $1",
      [seriesId],
    );
    expect(stateAfter.rows[0].detector_state).toEqual(
      stateBefore.rows[0].detector_state,
    );
  });

  it("fails at once without enough history", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const seriesId = await seriesWithModel(syntheticValues({ count: minimum + 10 }));
    const { job } = await requestTraining(db, seriesId, "request", ADA);

    const result = await runTrainSeries(db, job.id, log, FAST);

    expect(result.outcome).toBe("failed");
    const failed = await trainingJob(job.id);
    expect(failed.status).toBe("failed");
    expect(failed.message).toBe(
      `the series has ${minimum + 10} points; retraining needs ${minimum} to ` +
        "train on besides the newest points it holds out for the comparison " +
        `(up to ${DEFAULT_RETRAIN_POLICY.holdoutPoints}, at most a quarter of the history)`,
    );
    expect(await versions(seriesId)).toHaveLength(1);
  });

  it("records failed attempts for retry", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const seriesId = await seriesWithModel(
      syntheticValues({ count: minimum + DEFAULT_RETRAIN_POLICY.holdoutPoints }),
    );
    const { job } = await requestTraining(db, seriesId, "request", ADA);
    const failing = {
      ...FAST,
      maxAttempts: 2,
      onEpochEnd: () => {
        throw new Error("out of memory");
      },
    };

    await expect(
      runTrainSeries(db, job.id, log, { ...failing, attempt: 1 }),
    ).rejects.toThrow("out of memory");
    const retrying = await trainingJob(job.id);
    await expect(
      runTrainSeries(db, job.id, log, { ...failing, attempt: 2 }),
    ).rejects.toThrow("out of memory");
    const failed = await trainingJob(job.id);

    expect(retrying.status).toBe("queued");
    expect(retrying.message).toBe("attempt 1 of 2 failed, retrying: out of memory");
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(2);
    expect(failed.message).toBe("attempt 2 of 2 failed: out of memory");
    expect(await versions(seriesId)).toHaveLength(1);
  });

  it("dedupes an open job per series", async () => {
    const seriesId = await createSeries(db, "cpu");
    const first = await requestTraining(db, seriesId, "request", ADA);
    const second = await requestTraining(db, seriesId, "drift", ADA);

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.job.id).toBe(first.job.id);
    const queued = await db.query(
      "SELECT count(*)::int AS count FROM graphile_worker._private_jobs WHERE key = $1",
      [`${TASK_TRAIN_SERIES}:${seriesId}`],
    );
    expect(queued.rows[0].count).toBe(1);
  });
});

describe("models overview", () => {
  it("lists modelled series with jobs", async () => {
    const values = syntheticValues({ count: noCheckLength() });
    const cpu = await seriesWithModel(values, "cpu");
    const memory = await seriesWithModel(values, "memory");
    await createSeries(db, "short");
    const { job } = await requestTraining(db, memory, "request", ADA);

    const overview = await listModelOverview(db);

    expect(overview.total).toBe(2);
    expect(overview.rows.map((row) => row.seriesId)).toEqual([cpu, memory]);
    const [cpuRow, memoryRow] = overview.rows;
    expect(cpuRow!.active?.version).toBe(1);
    expect(cpuRow!.active?.reason).toBe("initial");
    // noCheckLength stops short of the first drift check.
    expect(cpuRow!.drift).toBeNull();
    expect(cpuRow!.job).toBeNull();
    expect(memoryRow!.job?.id).toBe(job.id);
    expect(memoryRow!.job?.status).toBe("queued");
    expect(memoryRow!.rejectedCount).toBe(0);
    expect(memoryRow!.versionCount).toBe(1);
  });
});

describe("worker crash", () => {
  /**
   * Runs an attempt of the training job in a child process that kills
   * itself with SIGKILL after epoch 2. Then marks the graphile job locked
   * for an hour by a dead worker, as a worker that died leaves it.
   */
  async function crashTraining(
    trainingJobId: number,
    seriesId: number,
  ): Promise<NodeJS.Signals | null> {
    // node --import tsx runs the script in this child itself, so the
    // SIGKILL it sends itself is what the child exits with.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tests/support/crash-training.ts", String(trainingJobId), "2"],
      { env: { ...process.env, LOG_LEVEL: "warn" }, stdio: "ignore" },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, exitSignal) => resolve(exitSignal)),
    );
    await db.query(
      `UPDATE graphile_worker._private_jobs
          SET locked_at = now() - interval '1 hour', locked_by = 'dead-worker',
              attempts = 1
        WHERE key = $1`,
      [`${TASK_TRAIN_SERIES}:${seriesId}`],
    );
    return signal;
  }

  it("fails after the last attempt is lost", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const seriesId = await seriesWithModel(
      syntheticValues({ count: minimum + DEFAULT_RETRAIN_POLICY.holdoutPoints + 50 }),
    );
    const { job } = await requestTraining(db, seriesId, "request", ADA);

    const sweeps = [];
    for (let attempt = 1; attempt <= TRAIN_SERIES_MAX_ATTEMPTS; attempt += 1) {
      expect(await crashTraining(job.id, seriesId)).toBe("SIGKILL");
      expect((await trainingJob(job.id)).attempts).toBe(attempt);
      sweeps.push(await requeueStaleTrainingJobs(db, 10));
    }

    expect(sweeps).toEqual([
      { requeued: [job.id], failed: [] },
      { requeued: [job.id], failed: [] },
      { requeued: [], failed: [job.id] },
    ]);
    const failed = await trainingJob(job.id);
    expect(failed.status).toBe("failed");
    expect(failed.attempts).toBe(3);
    expect(failed.message).toBe("the worker stopped during attempt 3 of 3; no attempts left");
    expect(failed.finished_at).not.toBeNull();
    expect(await versions(seriesId)).toHaveLength(1);
    expect(await requeueStaleTrainingJobs(db, 10)).toEqual({ requeued: [], failed: [] });
  });

  it("stores nothing and the job retries", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const seriesId = await seriesWithModel(
      syntheticValues({ count: minimum + DEFAULT_RETRAIN_POLICY.holdoutPoints + 50 }),
    );
    const { job } = await requestTraining(db, seriesId, "request", ADA);

    const signal = await crashTraining(job.id, seriesId);

    expect(signal).toBe("SIGKILL");
    expect(await versions(seriesId)).toHaveLength(1);
    const crashed = await trainingJob(job.id);
    expect(crashed.status).toBe("running");
    expect(crashed.epochs_done).toBe(2);

    // The stale sweep adds the job again, and a real worker runs it to the end.
    expect(await requeueStaleTrainingJobs(db, 10)).toEqual({
      requeued: [job.id],
      failed: [],
    });
    expect(await requeueStaleTrainingJobs(db, 10)).toEqual({
      requeued: [],
      failed: [],
    });
    const requeued = await trainingJob(job.id);
    expect(requeued.status).toBe("queued");
    expect(requeued.attempts).toBe(1);
    expect(requeued.message).toBe("the worker stopped during attempt 1 of 3, retrying");

    const worker = await runWorker({
      connectionString: process.env.DATABASE_URL,
      concurrency: 1,
      pollIntervalMs: 100,
    });
    try {
      for (let poll = 0; poll < 600; poll += 1) {
        const current = await trainingJob(job.id);
        if (current.status === "succeeded" || current.status === "failed") break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await worker.stop();
    }
    const retried = await trainingJob(job.id);
    expect(retried.status).toBe("succeeded");
    expect(retried.attempts).toBe(2);
    const rows = await versions(seriesId);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.training_job_id).toBe(job.id);
  });
});

describe("retraining check after scoring", () => {
  const policy = DEFAULT_RETRAIN_POLICY;
  // The first model trains on only VIGIL_MIN_TRAINING_POINTS points, so its
  // schedule comes due at the first check. Drift is tested on a second
  // version trained on HISTORY points, whose schedule is further away.
  const HISTORY = 1600;
  /** Points after HISTORY: one check, short of the second version's schedule. */
  const AFTER = Math.max(policy.checkEveryPoints, policy.minPointsBeforeDrift) + 12;

  async function driftRows(seriesId: number) {
    const { rows } = await db.query(
      `SELECT input_psi, score_psi, points, points_since, retrain_reason,
              training_job_id, model_version_id
         FROM model_drift WHERE series_id = $1 ORDER BY id`,
      [seriesId],
    );
    return rows;
  }

  /** Creates a series from the first HISTORY points and lets its scheduled
   * retraining produce the serving version 2. */
  async function seriesWithSecondModel(points: Point[]): Promise<number> {
    const seriesId = await seriesWithModel(points.slice(0, HISTORY));
    const [check] = await driftRows(seriesId);
    expect(check.retrain_reason).toBe("schedule");
    const trained = await runTrainSeries(db, check.training_job_id, log, {
      ...FAST,
      policy: ALWAYS_SERVE,
    });
    expect(trained.outcome).toBe("activated");
    const second = await versions(seriesId);
    const trainedPoints = second[1]!.point_count;
    expect(holdoutSize(HISTORY) + AFTER).toBeLessThan(
      Math.min(policy.scheduleEveryPoints, trainedPoints),
    );
    return seriesId;
  }

  it("schedules a young model's retraining", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const seriesId = await seriesWithModel(
      syntheticValues({ count: minimum + policy.checkEveryPoints }),
    );

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(1);
    expect(rows[0].points_since).toBe(policy.checkEveryPoints);
    expect(rows[0].retrain_reason).toBe("schedule");
    const job = await trainingJob(rows[0].training_job_id);
    expect(job.reason).toBe("schedule");
    expect(job.requested_by_name).toBe("worker");
  });

  it("stores drift of a stable series without retraining", async () => {
    const points = toPoints(syntheticValues({ count: HISTORY + AFTER }));
    const seriesId = await seriesWithSecondModel(points);
    await insertPoints(db, seriesId, points);

    await runScoreSeries(db, seriesId, log);

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(2);
    expect(rows[1].retrain_reason).toBeNull();
    expect(rows[1].input_psi).toBeLessThan(policy.driftThreshold);
    expect(rows[1].score_psi).not.toBeNull();
    expect(rows[1].points).toBe(policy.driftWindowPoints);
    expect(rows[1].training_job_id).toBeNull();
    const open = await db.query(
      "SELECT count(*)::int AS count FROM model_training_job WHERE status = 'queued'",
    );
    expect(open.rows[0].count).toBe(0);
  });

  it("lists only the serving version's drift", async () => {
    const points = toPoints(syntheticValues({ count: HISTORY + AFTER }));
    const seriesId = await seriesWithSecondModel(points);

    const retrained = await listModelOverview(db);

    // Version 1's check queued the retraining, and version 2 has no
    // measurement of its own yet.
    expect(await driftRows(seriesId)).toHaveLength(1);
    expect(retrained.rows[0]!.active?.version).toBe(2);
    expect(retrained.rows[0]!.drift).toBeNull();

    await insertPoints(db, seriesId, points);
    await runScoreSeries(db, seriesId, log);
    const measured = await listModelOverview(db);

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(2);
    expect(measured.rows[0]!.drift?.inputPsi).toBe(rows[1].input_psi);
    expect(measured.rows[0]!.drift?.retrainReason).toBeNull();
  });

  it("queues a retraining of a shifted series", async () => {
    const points = toPoints(
      syntheticValues({ count: HISTORY + AFTER, shift: { from: HISTORY, level: 40 } }),
    );
    const seriesId = await seriesWithSecondModel(points);
    await insertPoints(db, seriesId, points);

    await runScoreSeries(db, seriesId, log);

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(2);
    expect(rows[1].retrain_reason).toBe("drift");
    expect(rows[1].input_psi).toBeGreaterThanOrEqual(policy.driftThreshold);
    const job = await trainingJob(rows[1].training_job_id);
    expect(job.status).toBe("queued");
    expect(job.reason).toBe("drift");
    expect(job.requested_by_name).toBe("worker");
    const queued = await db.query(
      `SELECT payload FROM graphile_worker._private_jobs WHERE key = $1`,
      [`${TASK_TRAIN_SERIES}:${seriesId}`],
    );
    expect(queued.rows[0].payload).toEqual({
      seriesId,
      trainingJobId: rows[1].training_job_id,
    });
  });

  it("blocks drift after a rejected candidate", async () => {
    const points = toPoints(
      syntheticValues({
        count: HISTORY + 2 * AFTER,
        shift: { from: HISTORY, level: 40 },
      }),
    );
    const seriesId = await seriesWithSecondModel(points);
    await insertPoints(db, seriesId, points.slice(0, HISTORY + AFTER));
    await runScoreSeries(db, seriesId, log);
    const drifted = (await driftRows(seriesId))[1];
    expect(drifted.retrain_reason).toBe("drift");
    // A negative tolerance rejects any candidate.
    const rejected = await runTrainSeries(db, drifted.training_job_id, log, {
      ...FAST,
      policy: { ...policy, tolerance: -1 },
    });
    expect(rejected.outcome).toBe("rejected");

    await insertPoints(db, seriesId, points);
    await runScoreSeries(db, seriesId, log);

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(3);
    expect(rows[2].input_psi).toBeGreaterThanOrEqual(policy.driftThreshold);
    expect(rows[2].retrain_reason).toBeNull();
    const open = await db.query(
      "SELECT count(*)::int AS count FROM model_training_job WHERE status = 'queued'",
    );
    expect(open.rows[0].count).toBe(0);
  });

  it("checks again only after checkEveryPoints", async () => {
    const minimum = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const length = minimum + policy.checkEveryPoints;
    const points = toPoints(
      syntheticValues({ count: length + policy.checkEveryPoints }),
    );
    const seriesId = await seriesWithModel(points.slice(0, length));
    expect(await driftRows(seriesId)).toHaveLength(1);

    await insertPoints(db, seriesId, points.slice(0, length + 10));
    await runScoreSeries(db, seriesId, log);
    expect(await driftRows(seriesId)).toHaveLength(1);

    await insertPoints(db, seriesId, points);
    await runScoreSeries(db, seriesId, log);
    expect(await driftRows(seriesId)).toHaveLength(2);
  });

  it("queues and runs a scheduled retraining", async () => {
    const points = toPoints(
      syntheticValues({ count: HISTORY + policy.scheduleEveryPoints }),
    );
    const seriesId = await seriesWithSecondModel(points);
    await insertPoints(db, seriesId, points);

    await runScoreSeries(db, seriesId, log);

    const rows = await driftRows(seriesId);
    expect(rows).toHaveLength(2);
    expect(rows[1].retrain_reason).toBe("schedule");
    expect(rows[1].points_since).toBe(
      holdoutSize(HISTORY) + policy.scheduleEveryPoints,
    );
    const result = await runTrainSeries(db, rows[1].training_job_id, log, FAST);
    expect(["activated", "rejected"]).toContain(result.outcome);
    const stored = await versions(seriesId);
    expect(stored.map((row) => [row.version, row.reason])).toEqual([
      [1, "initial"],
      [2, "schedule"],
      [3, "schedule"],
    ]);
  });
});
