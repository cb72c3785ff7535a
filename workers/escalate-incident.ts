import type { JobHelpers } from "graphile-worker";
import { z } from "zod";

import { now } from "@/lib/clock";
import type { Logger } from "@/lib/logger";
import { runEscalation } from "@/lib/oncall/escalation";

// The escalate-incident task: advances one incident's escalation when its
// next level is due (lib/oncall/escalation.ts).

const escalatePayload = z.object({
  incidentId: z.number().int().positive(),
});

/** Runs one escalate-incident job; throws only for an invalid payload or a database error. */
export async function runEscalateIncident(
  payload: unknown,
  helpers: JobHelpers,
  workerLog: Logger,
): Promise<void> {
  const log = workerLog.child({
    jobId: helpers.job.id,
    task: helpers.job.task_identifier,
    jobAttempt: helpers.job.attempts,
  });
  const parsed = escalatePayload.safeParse(payload);
  if (!parsed.success) {
    log.error({ payload }, "invalid escalate-incident payload, expected {incidentId}");
    throw new Error("invalid escalate-incident payload: incidentId must be a positive integer");
  }
  const { incidentId } = parsed.data;
  try {
    await helpers.withPgClient((client) => runEscalation(client, incidentId, now(), log));
  } catch (error) {
    log.error({ err: error, incidentId }, "escalate-incident failed, the job will retry");
    throw error;
  }
}
