import type { JobHelpers } from "graphile-worker";
import { z } from "zod";

import {
  sendHeldResolve,
  TASK_SEND_HELD_RESOLVE,
} from "@/lib/ingest/alerts/held-resolve";
import type { Logger } from "@/lib/logger";

export { TASK_SEND_HELD_RESOLVE };

const heldResolvePayload = z.object({
  incidentId: z.number().int().positive(),
  resolvedEventId: z.number().int().positive(),
});

/** Runs one send-held-resolve job; throws for an invalid payload or a database error. */
export async function runSendHeldResolve(
  payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
): Promise<void> {
  const log = workerLog.child({ jobId: helpers.job.id, task: helpers.job.task_identifier });
  const parsed = heldResolvePayload.safeParse(payload);
  if (!parsed.success) {
    log.error({ payload }, "invalid send-held-resolve payload, expected {incidentId, resolvedEventId}");
    throw new Error("invalid send-held-resolve payload: incidentId and resolvedEventId must be positive integers");
  }
  await helpers.withPgClient((client) => sendHeldResolve(client, parsed.data, log));
}
