import type pg from "pg";

import { addIncidentEvent } from "@/lib/incidents/events";
import type { Logger } from "@/lib/logger";
import type { EmailConfig, StoredChannel } from "@/lib/notifications/channels";
import {
  deliveryJobKey,
  NOTIFY_JOB_MAX_ATTEMPTS,
  TASK_NOTIFY_INCIDENT,
} from "@/lib/notifications/enqueue";
import {
  incidentUrl,
  testContent,
  type IncidentSnapshot,
  type NotificationContent,
  type NotificationEvent,
} from "@/lib/notifications/payload";
import {
  sendEmail,
  sendSlack,
  sendWebhook,
  type SendResult,
} from "@/lib/notifications/send";

// One attempt of one delivery, as the notify-incident job runs it: send,
// then record the attempt, and either finish the delivery or schedule the
// next attempt with exponential backoff.
//
// A delivery whose status is sent or failed is never sent again, so a rerun
// of its job sends nothing. NOTE: a worker that stops after the peer
// accepted a notification but before the attempt is recorded sends it once
// more when the job is retried (at-least-once delivery).

export type DeliveryOptions = {
  /** HTTP request and SMTP timeout, in milliseconds. */
  timeoutMs: number;
  /** Attempts before a delivery is marked failed. */
  maxAttempts: number;
  /** Delay before the second attempt, in seconds; it doubles per attempt. */
  retryBaseSeconds: number;
  /** Base URL of the links to incident pages. */
  publicUrl: string;
};

export type DeliveryOutcome =
  | { outcome: "sent"; attempt: number }
  | { outcome: "retrying"; attempt: number; retryInSeconds: number }
  | { outcome: "failed"; attempt: number }
  | { outcome: "skipped"; reason: string };

/** Maximum delay between two attempts, in seconds. */
export const MAX_RETRY_DELAY_SECONDS = 3600;

/** Returns the delay after failed attempt `attempt` (1-based), in seconds. */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** (attempt - 1), MAX_RETRY_DELAY_SECONDS);
}

type DeliveryRow = {
  id: number;
  incident_id: number | null;
  event: NotificationEvent;
  status: "pending" | "retrying" | "sent" | "failed";
  attempts: number;
  channel_id: number;
  channel_name: string;
  channel_type: StoredChannel["type"];
  channel_enabled: boolean;
  config: Record<string, unknown>;
  secret_config: Record<string, unknown>;
  // Set for escalation pages only.
  escalation_level: number | null;
  recipient_name: string | null;
  recipient_email: string | null;
};

async function loadDelivery(
  db: pg.ClientBase,
  deliveryId: number,
): Promise<DeliveryRow | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.id, d.incident_id, d.event, d.status, d.attempts,
            c.id AS channel_id, c.name AS channel_name, c.type AS channel_type,
            c.enabled AS channel_enabled, c.config, c.secret_config,
            d.escalation_level, d.recipient_name, d.recipient_email
       FROM notification_delivery d
       JOIN notification_channel c ON c.id = d.channel_id
      WHERE d.id = $1`,
    [deliveryId],
  );
  return rows[0];
}

async function loadIncident(
  db: pg.ClientBase,
  incidentId: number,
): Promise<IncidentSnapshot | undefined> {
  const { rows } = await db.query<{
    id: number;
    title: string;
    status: string;
    severity: string;
    source: string;
    summary: string | null;
    service_slug: string;
    service_name: string;
    opened_at: Date;
    resolved_at: Date | null;
  }>(
    `SELECT i.id, i.title, i.status, i.severity, i.source, i.summary,
            s.slug AS service_slug, s.name AS service_name, i.opened_at,
            i.resolved_at
       FROM incident i JOIN service s ON s.id = i.service_id
      WHERE i.id = $1`,
    [incidentId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    severity: row.severity,
    source: row.source,
    summary: row.summary,
    serviceSlug: row.service_slug,
    serviceName: row.service_name,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
  };
}

function send(
  delivery: DeliveryRow,
  content: NotificationContent,
  timeoutMs: number,
): Promise<SendResult> {
  switch (delivery.channel_type) {
    case "webhook":
      return sendWebhook(String(delivery.config.url), content, timeoutMs);
    case "slack":
      return sendSlack(String(delivery.secret_config.url), content, timeoutMs);
    case "email":
      return sendEmail(
        // A page to a person goes to that person's address only.
        delivery.recipient_email !== null
          ? { ...(delivery.config as unknown as EmailConfig), to: [delivery.recipient_email] }
          : (delivery.config as unknown as EmailConfig),
        (delivery.secret_config.password as string | null) ?? null,
        content,
        timeoutMs,
      );
  }
}

async function inTransaction<T>(
  db: pg.ClientBase,
  fn: () => Promise<T>,
): Promise<T> {
  await db.query("BEGIN");
  try {
    const result = await fn();
    await db.query("COMMIT");
    return result;
  } catch (error) {
    await db.query("ROLLBACK");
    throw error;
  }
}

/** Marks a delivery failed without an attempt, for a channel that cannot send. */
async function giveUp(
  db: pg.ClientBase,
  delivery: DeliveryRow,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE notification_delivery
        SET status = 'failed', last_error = $2, next_attempt_at = NULL,
            updated_at = now()
      WHERE id = $1`,
    [delivery.id, reason],
  );
}

/**
 * Runs the next attempt of delivery `deliveryId` on `db`, a client outside
 * any transaction. Throws only for database errors, which let
 * graphile-worker retry the job.
 */
export async function runDelivery(
  db: pg.ClientBase,
  deliveryId: number,
  options: DeliveryOptions,
  log: Logger,
): Promise<DeliveryOutcome> {
  const delivery = await loadDelivery(db, deliveryId);
  if (!delivery) {
    log.warn({ deliveryId }, "notification delivery not found, its channel or incident was deleted");
    return { outcome: "skipped", reason: "not found" };
  }
  const context = {
    deliveryId,
    channelId: delivery.channel_id,
    channelType: delivery.channel_type,
    incidentId: delivery.incident_id,
    event: delivery.event,
  };
  if (delivery.status === "sent" || delivery.status === "failed") {
    log.info({ ...context, status: delivery.status }, "notification delivery already finished, not sending again");
    return { outcome: "skipped", reason: `already ${delivery.status}` };
  }
  if (!delivery.channel_enabled) {
    await giveUp(db, delivery, "the channel is disabled");
    log.warn(context, "notification not sent: the channel is disabled");
    return { outcome: "skipped", reason: "channel disabled" };
  }

  let content: NotificationContent;
  if (delivery.incident_id === null) {
    content = testContent(options.publicUrl, delivery.channel_name);
  } else {
    const incident = await loadIncident(db, delivery.incident_id);
    if (!incident) {
      await giveUp(db, delivery, "the incident no longer exists");
      log.warn(context, "notification not sent: the incident no longer exists");
      return { outcome: "skipped", reason: "incident not found" };
    }
    content = {
      event: delivery.event,
      incident,
      url: incidentUrl(options.publicUrl, incident.id),
      ...(delivery.escalation_level !== null
        ? { page: { level: delivery.escalation_level, recipientName: delivery.recipient_name } }
        : {}),
    };
  }

  const attempt = delivery.attempts + 1;
  const startedAt = performance.now();
  const result = await send(delivery, content, options.timeoutMs);
  const durationMs = Math.round(performance.now() - startedAt);

  const final = result.succeeded || attempt >= options.maxAttempts;
  const retryInSeconds = final ? 0 : retryDelaySeconds(attempt, options.retryBaseSeconds);
  let status: "sent" | "failed" | "retrying" = "retrying";
  if (result.succeeded) status = "sent";
  else if (final) status = "failed";

  await inTransaction(db, async () => {
    // The unique (delivery_id, attempt) index rejects a second job that
    // raced this one to the same attempt, and rolls its changes back.
    await db.query(
      `INSERT INTO notification_attempt
         (delivery_id, attempt, succeeded, http_status, smtp_response, error,
          duration_ms, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now())`,
      [
        delivery.id,
        attempt,
        result.succeeded,
        result.httpStatus,
        result.smtpResponse,
        result.error,
        durationMs,
      ],
    );
    await db.query(
      `UPDATE notification_delivery
          SET status = $2::"NotificationDeliveryStatus", attempts = $3, last_error = $4,
              next_attempt_at = CASE WHEN $5::float8 > 0
                THEN now() + make_interval(secs => $5::float8) END,
              sent_at = CASE WHEN $2::"NotificationDeliveryStatus" = 'sent' THEN now() END,
              updated_at = now()
        WHERE id = $1`,
      [delivery.id, status, attempt, result.error, retryInSeconds],
    );
    if (!final) {
      await db.query(
        `SELECT graphile_worker.add_job($1::text, json_build_object('deliveryId', $2::int),
           run_at := now() + make_interval(secs => $3::float8),
           job_key := $4::text, max_attempts := $5::int)`,
        [TASK_NOTIFY_INCIDENT, delivery.id, retryInSeconds, deliveryJobKey(delivery.id), NOTIFY_JOB_MAX_ATTEMPTS],
      );
    }
    if (final && delivery.incident_id !== null) {
      const answer = result.httpStatus !== null ? ` (HTTP ${result.httpStatus})` : "";
      const what =
        delivery.escalation_level !== null
          ? `Escalation page of level ${delivery.escalation_level}${delivery.recipient_name ? ` to ${delivery.recipient_name}` : ""}`
          : `Notification of the ${delivery.event} event`;
      await addIncidentEvent(db, {
        incidentId: delivery.incident_id,
        kind: result.succeeded ? "notification_sent" : "notification_failed",
        actorType: "worker",
        actorName: "notifier",
        message: result.succeeded
          ? `${what} sent to ${delivery.channel_type} channel ${delivery.channel_name}${answer}`
          : `${what} to ${delivery.channel_type} channel ${delivery.channel_name} failed after ${attempt} attempts: ${result.error}`,
        data: {
          deliveryId: delivery.id,
          channelId: delivery.channel_id,
          channelName: delivery.channel_name,
          channelType: delivery.channel_type,
          event: delivery.event,
          escalationLevel: delivery.escalation_level,
          recipientName: delivery.recipient_name,
          attempts: attempt,
          httpStatus: result.httpStatus,
          smtpResponse: result.smtpResponse,
          error: result.error,
        },
      });
    }
  });

  const fields = {
    ...context,
    attempt,
    durationMs,
    httpStatus: result.httpStatus,
    smtpResponse: result.smtpResponse,
  };
  if (result.succeeded) {
    log.info(fields, "notification sent");
    return { outcome: "sent", attempt };
  }
  if (!final) {
    log.warn({ ...fields, error: result.error, retryInSeconds }, "notification failed, retrying later");
    return { outcome: "retrying", attempt, retryInSeconds };
  }
  log.error({ ...fields, error: result.error }, "notification failed, giving up after the last attempt");
  return { outcome: "failed", attempt };
}
