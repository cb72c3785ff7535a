import type { JobHelpers } from "graphile-worker";

import { now } from "@/lib/clock";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { Logger } from "@/lib/logger";
import { deliveryOptions } from "@/lib/notifications/settings";
import { queueDueRuns, sendDueRuns } from "@/lib/reports/schedule-runs";

// The send-scheduled-reports task, run by the worker's cron every minute:
// queues a run for each report schedule that is due and mails the due runs
// (lib/reports/schedule-runs.ts). SMTP timeout, attempts and backoff are
// those of incident notifications (VIGIL_NOTIFY_TIMEOUT_MS,
// VIGIL_NOTIFY_MAX_ATTEMPTS, VIGIL_NOTIFY_RETRY_BASE_SECONDS).

export const TASK_SEND_SCHEDULED_REPORTS = "send-scheduled-reports";

// Stop claiming new runs after this long, so that one run of the task ends
// before the next minute's starts. A run being sent finishes first.
const SEND_RUN_BUDGET_MS = 45_000;

/** Runs one send-scheduled-reports job; throws only on a database error. */
export async function runSendScheduledReports(
  _payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
): Promise<void> {
  const log = workerLog.child({ jobId: helpers.job.id, task: helpers.job.task_identifier });
  const started = Date.now();
  const options = deliveryOptions(getConfig());
  try {
    await queueDueRuns(getPool(), now(), log);
    const outcomes = await sendDueRuns(
      getPool(),
      now(),
      {
        timeoutMs: options.timeoutMs,
        maxAttempts: options.maxAttempts,
        retryBaseSeconds: options.retryBaseSeconds,
        deadline: started + SEND_RUN_BUDGET_MS,
      },
      log,
    );
    if (outcomes.length > 0) {
      log.info(
        { runs: outcomes.length, sent: outcomes.filter((outcome) => outcome.status === "sent").length, ms: Date.now() - started },
        "worked off due report schedule runs",
      );
    }
  } catch (error) {
    log.error({ err: error }, "send-scheduled-reports failed, the next run retries the due runs");
    throw error;
  }
}
