import type { JobHelpers } from "graphile-worker";

import type { Logger } from "@/lib/logger";
import { evaluateAllSlos } from "@/lib/slo/evaluate";

// The evaluate-slos task, run by the worker's cron every minute: computes
// each SLO's burn rates and opens or resolves the incidents of fast burns
// (lib/slo/evaluate.ts). A missed run only delays an incident by a minute,
// because every run reads the windows that end at its own start.

export const TASK_EVALUATE_SLOS = "evaluate-slos";

/** Runs one evaluate-slos job; throws only when the SLOs cannot be listed. */
export async function runEvaluateSlos(
  _payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
): Promise<void> {
  const log = workerLog.child({
    jobId: helpers.job.id,
    task: helpers.job.task_identifier,
  });
  const started = Date.now();
  try {
    const counts = await helpers.withPgClient((client) =>
      evaluateAllSlos(client, undefined, log),
    );
    if (counts.opened > 0 || counts.joined > 0 || counts.resolved > 0 || counts.failed > 0) {
      log.info({ ...counts, ms: Date.now() - started }, "evaluated SLOs");
    }
  } catch (error) {
    log.error({ err: error }, "evaluate-slos failed, the next run evaluates every SLO again");
    throw error;
  }
}
