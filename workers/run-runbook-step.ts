import type { JobHelpers } from "graphile-worker";
import { z } from "zod";

import type { Logger } from "@/lib/logger";
import {
  DEFAULT_RETRY_BASE_SECONDS,
  runStepAttempt,
  type StepRunOptions,
} from "@/lib/runbooks/step-runs";

export { TASK_RUN_RUNBOOK_STEP } from "@/lib/runbooks/step-runs";

// The run-runbook-step task: one attempt of one runbook step run. A job per
// attempt keeps a hanging destination from holding a worker between
// retries.

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
