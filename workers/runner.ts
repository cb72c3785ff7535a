import { Logger as GraphileLogger, run, type Runner } from "graphile-worker";
import { z } from "zod";

import { getConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { initBackend } from "@/lib/detector/backend";
import { logger } from "@/lib/logger";
import {
  enqueueSeriesScoring,
  TASK_ENQUEUE_SCORING,
  TASK_SCORE_SERIES,
} from "@/lib/queue";
import {
  requeueStaleTrainingJobs,
  TASK_TRAIN_SERIES,
} from "@/lib/models/training-jobs";
import {
  enqueueStaleSeries,
  STALE_LOCK_MINUTES,
  TASK_ENQUEUE_STALE_SERIES,
} from "@/workers/enqueue-stale-series";
import { TASK_NOTIFY_INCIDENT } from "@/lib/notifications/enqueue";
import { runSendHeldResolve, TASK_SEND_HELD_RESOLVE } from "@/workers/send-held-resolve";
import { now } from "@/lib/clock";
import {
  rescheduleLostEscalations,
  TASK_ESCALATE_INCIDENT,
} from "@/lib/oncall/escalation";
import { runEscalateIncident } from "@/workers/escalate-incident";
import { runFoldRollups, TASK_FOLD_ROLLUPS } from "@/workers/fold-rollups";
import { runEvaluateSlos, TASK_EVALUATE_SLOS } from "@/workers/evaluate-slos";
import { runSendScheduledReports, TASK_SEND_SCHEDULED_REPORTS } from "@/workers/send-scheduled-reports";
import { runNotifyIncident } from "@/workers/notify-incident";
import { startStepRunner, STEP_RUNNER_CONCURRENCY } from "@/workers/run-runbook-step";
import { runScoreSeries } from "@/workers/score-series";
import { runTrainSeries } from "@/workers/train-series";

// The worker process: graphile-worker pulling jobs from PostgreSQL, so
// several worker processes can share one queue.

export type WorkerHandle = {
  /** Stops taking jobs, waits for running ones, then closes the pools. */
  stop: () => Promise<void>;
  /** Settles when the runner stops. */
  promise: Promise<void>;
};

export type WorkerOptions = {
  connectionString?: string;
  concurrency?: number;
  /** Slots for runbook step jobs, apart from `concurrency`; see startStepRunner. */
  stepConcurrency?: number;
  pollIntervalMs?: number;
};

const scoreSeriesPayload = z.object({
  seriesId: z.number().int().positive(),
});

const trainSeriesPayload = z.object({
  seriesId: z.number().int().positive(),
  trainingJobId: z.number().int().positive(),
});

const enqueueScoringPayload = z.object({
  seriesIds: z.array(z.number().int().positive()),
});

const workerLog = logger.child({ component: "worker" });

/** Routes graphile-worker's own log lines to pino, with its scope as fields. */
const graphileLogger = new GraphileLogger((scope) => {
  const scopeFields = {
    jobId: scope.jobId,
    task: scope.taskIdentifier,
    workerId: scope.workerId,
  };
  return (level, message, meta) => {
    const { job, ...rest } = (meta ?? {}) as {
      job?: { id: string; task_identifier: string; attempts: number };
    };
    // graphile-worker attaches the whole job row; its ids are enough.
    const fields = job
      ? { ...scopeFields, ...rest, jobId: job.id, task: job.task_identifier }
      : { ...scopeFields, ...rest };
    // A successful job is routine: the task logs its own news at info.
    const routine = level === "info" && message.startsWith("Completed task");
    if (level === "error") workerLog.error(fields, message);
    else if (level === "warning") workerLog.warn(fields, message);
    else if (level === "info" && !routine) workerLog.info(fields, message);
    else workerLog.debug(fields, message);
  };
});

/** Starts the job runner and returns a handle to stop it. */
export async function runWorker(
  options: WorkerOptions = {},
): Promise<WorkerHandle> {
  const config = getConfig();
  const connectionString =
    options.connectionString ?? config.DATABASE_URL ?? process.env.DATABASE_URL;
  if (!connectionString) {
    throw new Error(
      "DATABASE_URL is not set: the worker needs the database that contains the job queue",
    );
  }
  const concurrency = options.concurrency ?? config.VIGIL_WORKER_CONCURRENCY;
  const backend = await initBackend();

  const runner: Runner = await run({
    connectionString,
    concurrency,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs ?? 2000,
    logger: graphileLogger,
    crontab: `* * * * * ${TASK_ENQUEUE_STALE_SERIES}\n* * * * * ${TASK_FOLD_ROLLUPS} ?max=1\n* * * * * ${TASK_EVALUATE_SLOS} ?max=1\n* * * * * ${TASK_SEND_SCHEDULED_REPORTS} ?max=1`,
    taskList: {
      [TASK_SCORE_SERIES]: async (payload, helpers) => {
        const parsed = scoreSeriesPayload.safeParse(payload);
        const log = workerLog.child({
          jobId: helpers.job.id,
          task: helpers.job.task_identifier,
          seriesId: parsed.success ? parsed.data.seriesId : undefined,
          attempt: helpers.job.attempts,
        });
        if (!parsed.success) {
          log.error({ payload }, "invalid score-series payload, expected {seriesId}");
          throw new Error(
            `invalid score-series payload: seriesId must be a positive integer`,
          );
        }
        try {
          await helpers.withPgClient((client) =>
            runScoreSeries(client, parsed.data.seriesId, log),
          );
        } catch (error) {
          log.error({ err: error }, "score-series failed, the job will retry");
          throw error;
        }
      },
      [TASK_TRAIN_SERIES]: async (payload, helpers) => {
        const parsed = trainSeriesPayload.safeParse(payload);
        const log = workerLog.child({
          jobId: helpers.job.id,
          task: helpers.job.task_identifier,
          attempt: helpers.job.attempts,
        });
        if (!parsed.success) {
          log.error(
            { payload },
            "invalid train-series payload, expected {seriesId, trainingJobId}",
          );
          throw new Error(
            "invalid train-series payload: seriesId and trainingJobId must be positive integers",
          );
        }
        // The client stays checked out for the whole training, which runs
        // outside any transaction so that its progress updates commit.
        await helpers.withPgClient((client) =>
          runTrainSeries(client, parsed.data.trainingJobId, log, {
            attempt: helpers.job.attempts,
            maxAttempts: helpers.job.max_attempts,
          }),
        );
      },
      [TASK_ENQUEUE_SCORING]: async (payload, helpers) => {
        const parsed = enqueueScoringPayload.safeParse(payload);
        if (!parsed.success) {
          workerLog.error(
            { jobId: helpers.job.id, payload },
            "invalid enqueue-scoring payload, expected {seriesIds}",
          );
          throw new Error(
            "invalid enqueue-scoring payload: seriesIds must be positive integers",
          );
        }
        await helpers.withPgClient((client) =>
          enqueueSeriesScoring(client, parsed.data.seriesIds),
        );
      },
      [TASK_NOTIFY_INCIDENT]: (payload, helpers) =>
        runNotifyIncident(payload, helpers, workerLog),
      [TASK_ESCALATE_INCIDENT]: (payload, helpers) => runEscalateIncident(payload, helpers, workerLog),
      [TASK_SEND_HELD_RESOLVE]: (payload, helpers) => runSendHeldResolve(payload, helpers, workerLog),
      [TASK_FOLD_ROLLUPS]: (payload, helpers) => runFoldRollups(payload, helpers, workerLog),
      [TASK_EVALUATE_SLOS]: (payload, helpers) => runEvaluateSlos(payload, helpers, workerLog),
      [TASK_SEND_SCHEDULED_REPORTS]: (payload, helpers) => runSendScheduledReports(payload, helpers, workerLog),
      [TASK_ENQUEUE_STALE_SERIES]: async (_payload, helpers) => {
        const log = workerLog.child({
          jobId: helpers.job.id,
          task: helpers.job.task_identifier,
        });
        const ids = await helpers.withPgClient((client) =>
          enqueueStaleSeries(client, config.VIGIL_MIN_TRAINING_POINTS),
        );
        if (ids.length > 0) {
          log.info({ seriesIds: ids }, "enqueued series with unscored points");
        }
        const trainingJobs = await helpers.withPgClient((client) =>
          requeueStaleTrainingJobs(client, STALE_LOCK_MINUTES),
        );
        if (trainingJobs.requeued.length > 0) {
          log.warn(
            { trainingJobIds: trainingJobs.requeued },
            "requeued training jobs whose worker stopped or whose job was lost",
          );
        }
        const escalations = await helpers.withPgClient((client) =>
          rescheduleLostEscalations(client, now(), STALE_LOCK_MINUTES),
        );
        if (escalations.length > 0) {
          log.warn(
            { incidentIds: escalations },
            "rescheduled escalations whose job failed or was lost",
          );
        }
        if (trainingJobs.failed.length > 0) {
          log.error(
            { trainingJobIds: trainingJobs.failed },
            "training jobs failed: the worker stopped during their last attempt",
          );
        }
      },
    },
  });
  const stepConcurrency = options.stepConcurrency ?? STEP_RUNNER_CONCURRENCY;
  let stepRunner: Runner;
  try {
    stepRunner = await startStepRunner({
      connectionString,
      concurrency: stepConcurrency,
      pollIntervalMs: options.pollIntervalMs ?? 2000,
      graphileLogger,
      log: workerLog,
    });
  } catch (error) {
    await runner.stop();
    throw error;
  }
  workerLog.info({ concurrency, stepConcurrency, backend }, "worker started");

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // NOTE: a test that stopped the worker while a step job was in its
      // final transaction once found that transaction left open. Not
      // reproduced or explained yet; the test now waits for its steps.
      workerLog.info("worker stopping: finishing running jobs");
      try {
        await Promise.all([runner.stop(), stepRunner.stop()]);
      } finally {
        await closeDb();
      }
      workerLog.info("worker stopped");
    })();
    return stopping;
  };
  return { stop, promise: Promise.all([runner.promise, stepRunner.promise]).then(() => undefined) };
}
