import type { JobHelpers } from "graphile-worker";
import { z } from "zod";

import { getConfig } from "@/lib/config";
import type { Logger } from "@/lib/logger";
import { runDelivery } from "@/lib/notifications/deliver";
import { deliveryOptions } from "@/lib/notifications/settings";

// The notify-incident task: one attempt of one notification delivery. A job
// per delivery keeps a dead or hanging channel from holding up the others.

const notifyPayload = z.object({
  deliveryId: z.number().int().positive(),
});

/** Runs one notify-incident job; throws only for an invalid payload or a database error. */
export async function runNotifyIncident(
  payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
): Promise<void> {
  const log = workerLog.child({
    jobId: helpers.job.id,
    task: helpers.job.task_identifier,
    jobAttempt: helpers.job.attempts,
  });
  const parsed = notifyPayload.safeParse(payload);
  if (!parsed.success) {
    log.error({ payload }, "invalid notify-incident payload, expected {deliveryId}");
    throw new Error(
      "invalid notify-incident payload: deliveryId must be a positive integer",
    );
  }
  const options = deliveryOptions(getConfig());
  try {
    await helpers.withPgClient((client) =>
      runDelivery(client, parsed.data.deliveryId, options, log),
    );
  } catch (error) {
    log.error(
      { err: error, deliveryId: parsed.data.deliveryId },
      "notify-incident failed, the job will retry",
    );
    throw error;
  }
}
