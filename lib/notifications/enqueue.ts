import type pg from "pg";

import { now } from "@/lib/clock";
import { addIncidentEvent } from "@/lib/incidents/events";
import { startEscalation, stopEscalation } from "@/lib/oncall/escalation";
import {
  describeSuppression,
  findIncidentSuppression,
  type Suppression,
} from "@/lib/oncall/suppression";

// Adds the deliveries of an incident event, with one notify-incident job
// each, in the caller's transaction. A crash before the commit loses both
// the incident change and its notifications, and a crash after it loses
// neither. The unique (incident_id, event, channel_id, page_key) index
// makes a repeated call add nothing. page_key is '' until the incident is
// first reopened and 'reopen <n>' after its n-th reopen, so a reopened
// incident notifies its reopen and its next resolve once each.
//
// While a maintenance window or silence covers the incident, no delivery is
// added and a timeline event names the suppressed notification and why.
// An opened incident also starts its service's escalation policy, and a
// resolved one stops it (lib/oncall/escalation.ts).

export const TASK_NOTIFY_INCIDENT = "notify-incident";

/**
 * graphile-worker attempts of one job, which only a database error uses up,
 * because the task schedules its own retries of a failed send.
 * NOTE: a delivery whose job fails this often on database errors stays
 * pending, with the failed job left in graphile_worker's jobs table.
 */
export const NOTIFY_JOB_MAX_ATTEMPTS = 3;

export type NotifyIncidentPayload = { deliveryId: number };

export type IncidentNotificationEvent = "opened" | "reopened" | "resolved";

type Queryable = Pick<pg.ClientBase, "query">;

/** Returns the job_key of a delivery's job, so it never has two pending jobs. */
export function deliveryJobKey(deliveryId: number): string {
  return `notify-delivery:${deliveryId}`;
}

// A rule matches when it names the incident's service, or no service, and
// the incident's severity is at least as severe as the rule's minimum. The
// Severity enum sorts sev1 first, so "at least as severe" is <=.
const ENQUEUE_INCIDENT_SQL = `
  WITH target AS (
    SELECT id, service_id, severity,
           (SELECT count(*) FROM incident_event e
             WHERE e.incident_id = incident.id AND e.kind = 'reopened') AS reopens
      FROM incident WHERE id = $1::int
  ), inserted AS (
    INSERT INTO notification_delivery (channel_id, incident_id, event, page_key)
    SELECT DISTINCT channel.id, target.id, $2::text,
           CASE WHEN target.reopens = 0 THEN '' ELSE 'reopen ' || target.reopens END
      FROM target
      JOIN notification_rule rule
        ON (rule.service_id IS NULL OR rule.service_id = target.service_id)
       AND target.severity <= rule.min_severity
      JOIN notification_channel channel
        ON channel.id = rule.channel_id AND channel.enabled
    ON CONFLICT (incident_id, event, channel_id, page_key) DO NOTHING
    RETURNING id
  )
  SELECT count(graphile_worker.add_job(
           $3::text,
           json_build_object('deliveryId', inserted.id),
           job_key := 'notify-delivery:' || inserted.id,
           max_attempts := $4::int
         ))::int AS count
    FROM inserted`;

// The enabled channels whose rules match an incident, as ENQUEUE_INCIDENT_SQL
// picks them, for the timeline of a suppressed notification.
const MATCHING_CHANNELS_SQL = `
  SELECT DISTINCT channel.id, channel.name, channel.type
    FROM incident target
    JOIN notification_rule rule
      ON (rule.service_id IS NULL OR rule.service_id = target.service_id)
     AND target.severity <= rule.min_severity
    JOIN notification_channel channel
      ON channel.id = rule.channel_id AND channel.enabled
   WHERE target.id = $1
   ORDER BY channel.name, channel.id`;

async function recordSuppressedNotifications(
  db: Queryable,
  incidentId: number,
  event: IncidentNotificationEvent,
  suppression: Suppression,
): Promise<void> {
  const { rows } = await db.query<{ id: number; name: string; type: string }>(
    MATCHING_CHANNELS_SQL,
    [incidentId],
  );
  for (const channel of rows) {
    await addIncidentEvent(db, {
      incidentId,
      kind: "notification_suppressed",
      actorType: "system",
      actorName: "notifier",
      message: `Notification of the ${event} event to ${channel.type} channel ${channel.name} suppressed: ${describeSuppression(suppression)}`,
      data: {
        event,
        channelId: channel.id,
        channelName: channel.name,
        suppressionKind: suppression.kind,
        suppressionId: suppression.id,
        suppressionName: suppression.name,
        endsAt: suppression.endsAt.toISOString(),
      },
    });
  }
}

/**
 * Adds one delivery and one job per channel whose routing rules match the
 * incident, unless a maintenance window or silence suppresses them, and
 * starts or stops the incident's escalation unless `escalate` is false.
 * Must run in the transaction that opens or resolves the incident. Returns
 * the deliveries added.
 */
export async function enqueueIncidentNotifications(
  db: Queryable,
  incidentId: number,
  event: IncidentNotificationEvent,
  options: { escalate?: boolean } = {},
): Promise<number> {
  const at = now();
  let count = 0;
  const suppression = await findIncidentSuppression(db, incidentId, at);
  if (suppression) {
    await recordSuppressedNotifications(db, incidentId, event, suppression);
  } else {
    const { rows } = await db.query<{ count: number }>(ENQUEUE_INCIDENT_SQL, [
      incidentId,
      event,
      TASK_NOTIFY_INCIDENT,
      NOTIFY_JOB_MAX_ATTEMPTS,
    ]);
    count = rows[0]?.count ?? 0;
  }
  // Escalation checks suppression itself when each level is due.
  if (options.escalate === false) return count;
  if (event === "resolved") await stopEscalation(db, incidentId, "resolved");
  else await startEscalation(db, incidentId, at);
  return count;
}

type PrismaTransaction = {
  $queryRawUnsafe: (sql: string, ...params: unknown[]) => PromiseLike<unknown>;
};

/** Like enqueueIncidentNotifications, for a Prisma interactive transaction. */
export async function enqueueIncidentNotificationsPrisma(
  tx: PrismaTransaction,
  incidentId: number,
  event: IncidentNotificationEvent,
): Promise<void> {
  const db = {
    query: async (sql: string, params: unknown[] = []) => ({
      rows: (await tx.$queryRawUnsafe(sql, ...params)) as unknown[],
    }),
  } as unknown as Queryable;
  await enqueueIncidentNotifications(db, incidentId, event);
}

/** Adds a test delivery to one channel and its job, and returns the delivery id. */
export async function enqueueTestNotification(
  db: Queryable,
  channelId: number,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO notification_delivery (channel_id, incident_id, event)
     VALUES ($1, NULL, 'test') RETURNING id`,
    [channelId],
  );
  const deliveryId = rows[0]!.id;
  await db.query(
    `SELECT graphile_worker.add_job($1::text, json_build_object('deliveryId', $2::int),
       job_key := $3::text, max_attempts := $4::int)`,
    [TASK_NOTIFY_INCIDENT, deliveryId, deliveryJobKey(deliveryId), NOTIFY_JOB_MAX_ATTEMPTS],
  );
  return deliveryId;
}
