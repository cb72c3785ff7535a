import type { JobHelpers } from "graphile-worker";

import { foldAllPendingRollups } from "@/lib/kpi/rollups";
import type { Logger } from "@/lib/logger";

// The fold-kpi-rollups task, run by the worker's cron every minute: folds
// the hours whose points changed into the KPI rollups (lib/kpi/rollups.ts).
// KPI queries stay exact while hours are pending, so a late or failed run
// only makes them read more raw points.

export const TASK_FOLD_ROLLUPS = "fold-kpi-rollups";

// Stop starting new batches after this long, so that one run ends before the
// next minute's run starts. A batch that is running finishes first.
const FOLD_RUN_BUDGET_MS = 45_000;

/** Runs one fold-kpi-rollups job; throws only on a database error. */
export async function runFoldRollups(
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
    const folded = await helpers.withPgClient((client) =>
      foldAllPendingRollups(client, { deadline: started + FOLD_RUN_BUDGET_MS }),
    );
    if (folded.hours > 0) {
      log.info(
        { hours: folded.hours, days: folded.days, ms: Date.now() - started },
        "folded pending hours into the KPI rollups",
      );
    }
  } catch (error) {
    log.error({ err: error }, "fold-kpi-rollups failed, the next run retries the pending hours");
    throw error;
  }
}
