import { run, type JobHelpers, type Logger as GraphileLogger, type Runner } from "graphile-worker";
import { z } from "zod";

import type { Logger } from "@/lib/logger";
import {
  DEFAULT_RETRY_BASE_SECONDS,
  runStepAttempt,
  TASK_RUN_RUNBOOK_STEP,
  type StepRunOptions,
} from "@/lib/runbooks/step-runs";

export { TASK_RUN_RUNBOOK_STEP };

// The run-runbook-step task: one attempt of one runbook step run. A job per
// attempt keeps a hanging destination from holding a worker between
// retries.

/** Default number of step jobs that one worker process runs at once. */
export const STEP_RUNNER_CONCURRENCY = 2;

const runStepPayload = z.object({
  runId: z.number().int().positive(),
});

/** Runs one run-runbook-step job; throws only for an invalid payload or a database error. */
export async function runRunbookStep(
  payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
  options: StepRunOptions = { retryBaseSeconds: DEFAULT_RETRY_BASE_SECONDS },
): Promise<void> {
  const log = workerLog.child({
    jobId: helpers.job.id,
    task: helpers.job.task_identifier,
    jobAttempt: helpers.job.attempts,
  });
  const parsed = runStepPayload.safeParse(payload);
  if (!parsed.success) {
    log.error({ payload }, "invalid run-runbook-step payload, expected {runId}");
    throw new Error("invalid run-runbook-step payload: runId must be a positive integer");
  }
  try {
    await helpers.withPgClient((client) =>
      runStepAttempt(client, parsed.data.runId, options, log),
    );
  } catch (error) {
    log.error(
      { err: error, runId: parsed.data.runId },
      "run-runbook-step failed, the job will retry",
    );
    throw error;
  }
}

export type StepRunnerOptions = {
  connectionString: string;
  concurrency: number;
  pollIntervalMs: number;
  graphileLogger: GraphileLogger;
  log: Logger;
};

/**
 * Starts a graphile-worker runner that takes only run-runbook-step jobs,
 * with its own `concurrency` slots. The main runner of the worker process
 * leaves this task out of its task list, so a step waiting on a hanging
 * destination (up to its timeout, at most 60 s) occupies a slot of this
 * runner only, and escalation and notification jobs never wait for it.
 */
export function startStepRunner(options: StepRunnerOptions): Promise<Runner> {
  return run({
    connectionString: options.connectionString,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs,
    logger: options.graphileLogger,
    taskList: {
      [TASK_RUN_RUNBOOK_STEP]: (payload, helpers) => runRunbookStep(payload, helpers, options.log),
    },
  });
}
