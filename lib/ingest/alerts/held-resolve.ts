import type pg from "pg";

import type { Queryable } from "@/lib/incidents/events";
import type { Logger } from "@/lib/logger";
import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";

// The resolve of a flapping alert's short cycle is not sent to the channels
// at once (lib/ingest/alerts/incidents.ts). A send-held-resolve job runs one
// flap window later. If the incident is still resolved by that same resolve,
// the alert has stopped flapping, and the channels get the resolve then.

export const TASK_SEND_HELD_RESOLVE = "send-held-resolve";

const MAX_ATTEMPTS = 10;

export type HeldResolvePayload = { incidentId: number; resolvedEventId: number };

/**
 * Adds the job that sends a held resolve at `runAt`. The job key keeps one
 * job per incident, so a later held resolve replaces an earlier one.
 */
export async function scheduleHeldResolve(
  db: Queryable,
  payload: HeldResolvePayload,
  runAt: Date,
): Promise<void> {
  await db.query(
    `SELECT graphile_worker.add_job($1::text, $2::json, run_at := $3::timestamptz,
       job_key := $4::text, max_attempts := $5::int)`,
    [
      TASK_SEND_HELD_RESOLVE,
      JSON.stringify(payload),
      runAt,
      `held-resolve:${payload.incidentId}`,
      MAX_ATTEMPTS,
    ],
  );
}

/**
 * Sends a held resolve to the channels, in one transaction, unless the
 * incident was reopened since or its latest resolve is another one.
 * Returns whether it sent it.
 */
export async function sendHeldResolve(
  db: pg.ClientBase,
  payload: HeldResolvePayload,
  log: Logger,
): Promise<boolean> {
  const { incidentId, resolvedEventId } = payload;
  await db.query("BEGIN");
  try {
    const incident = await db.query<{ status: string }>(
      "SELECT status FROM incident WHERE id = $1 FOR UPDATE",
      [incidentId],
    );
    const latest = await db.query<{ id: number; held: boolean | null }>(
      `SELECT id, (data->>'notificationHeld')::boolean AS held FROM incident_event
        WHERE incident_id = $1 AND kind = 'resolved'
        ORDER BY id DESC LIMIT 1`,
      [incidentId],
    );
    const resolve = latest.rows[0];
    const current =
      incident.rows[0]?.status === "resolved" &&
      resolve?.id === resolvedEventId &&
      resolve.held === true;
    if (!current) {
      await db.query("COMMIT");
      log.info(
        { incidentId, resolvedEventId, status: incident.rows[0]?.status ?? null },
        "held resolve not sent: the incident was reopened or resolved again since",
      );
      return false;
    }
    // The channels get this resolve now, so the next flap's reopen is sent.
    await db.query(
      `UPDATE incident_event
          SET data = data || '{"notificationHeld": false, "notificationSentLater": true}'::jsonb
        WHERE id = $1`,
      [resolvedEventId],
    );
    await enqueueIncidentNotifications(db, incidentId, "resolved", { escalate: false });
    await db.query("COMMIT");
    log.info({ incidentId, resolvedEventId }, "held resolve sent: the alert stopped flapping");
    return true;
  } catch (error) {
    await db.query("ROLLBACK");
    throw error;
  }
}
