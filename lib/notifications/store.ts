import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import type {
  ChannelType,
  Severity,
  StoredChannel,
} from "@/lib/notifications/channels";

// Reads and writes of channels, routing rules and the delivery log, for the
// admin API and the settings page.

type Queryable = Pick<pg.ClientBase, "query">;

type ChannelRow = {
  id: number;
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  secret_config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
};

const CHANNEL_COLUMNS =
  "id, name, type, enabled, config, secret_config, created_at, updated_at";

function toChannel(row: ChannelRow): StoredChannel {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    enabled: row.enabled,
    config: row.config,
    secretConfig: row.secret_config,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === "23505" && pgError.constraint === constraint;
}

function nameTaken(name: string): ApiError {
  return new ApiError(409, "name_taken", `a notification channel named ${JSON.stringify(name)} exists already`, {
    field: "name",
  });
}

export async function listChannels(db: Queryable): Promise<StoredChannel[]> {
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channel ORDER BY name, id`,
  );
  return rows.map(toChannel);
}

export async function findChannel(
  db: Queryable,
  id: number,
): Promise<StoredChannel | undefined> {
  const { rows } = await db.query<ChannelRow>(
    `SELECT ${CHANNEL_COLUMNS} FROM notification_channel WHERE id = $1`,
    [id],
  );
  return rows[0] && toChannel(rows[0]);
}

export type ChannelWrite = {
  name: string;
  type: ChannelType;
  enabled: boolean;
  config: Record<string, unknown>;
  secretConfig: Record<string, unknown>;
};

/** Inserts a channel; throws a 409 ApiError when the name is taken. */
export async function insertChannel(
  db: Queryable,
  channel: ChannelWrite,
): Promise<StoredChannel> {
  try {
    const { rows } = await db.query<ChannelRow>(
      `INSERT INTO notification_channel (name, type, enabled, config, secret_config)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
       RETURNING ${CHANNEL_COLUMNS}`,
      [
        channel.name,
        channel.type,
        channel.enabled,
        JSON.stringify(channel.config),
        JSON.stringify(channel.secretConfig),
      ],
    );
    return toChannel(rows[0]!);
  } catch (error) {
    if (isUniqueViolation(error, "notification_channel_name_key")) {
      throw nameTaken(channel.name);
    }
    throw error;
  }
}

/** Replaces a channel's name, state and settings; returns undefined when it does not exist. */
export async function updateChannel(
  db: Queryable,
  id: number,
  channel: Omit<ChannelWrite, "type">,
): Promise<StoredChannel | undefined> {
  try {
    const { rows } = await db.query<ChannelRow>(
      `UPDATE notification_channel
          SET name = $2, enabled = $3, config = $4::jsonb,
              secret_config = $5::jsonb, updated_at = now()
        WHERE id = $1
       RETURNING ${CHANNEL_COLUMNS}`,
      [
        id,
        channel.name,
        channel.enabled,
        JSON.stringify(channel.config),
        JSON.stringify(channel.secretConfig),
      ],
    );
    return rows[0] && toChannel(rows[0]);
  } catch (error) {
    if (isUniqueViolation(error, "notification_channel_name_key")) {
      throw nameTaken(channel.name);
    }
    throw error;
  }
}

/** Deletes a channel with its rules and deliveries; returns whether it existed. */
export async function deleteChannel(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM notification_channel WHERE id = $1",
    [id],
  );
  return rowCount === 1;
}

export type RoutingRule = {
  id: number;
  channelId: number;
  channelName: string;
  serviceId: number | null;
  serviceSlug: string | null;
  minSeverity: Severity;
  createdAt: string;
};

type RuleRow = {
  id: number;
  channel_id: number;
  channel_name: string;
  service_id: number | null;
  service_slug: string | null;
  min_severity: Severity;
  created_at: Date;
};

const RULE_SELECT = `
  SELECT r.id, r.channel_id, c.name AS channel_name, r.service_id,
         s.slug AS service_slug, r.min_severity, r.created_at
    FROM notification_rule r
    JOIN notification_channel c ON c.id = r.channel_id
    LEFT JOIN service s ON s.id = r.service_id`;

function toRule(row: RuleRow): RoutingRule {
  return {
    id: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    serviceId: row.service_id,
    serviceSlug: row.service_slug,
    minSeverity: row.min_severity,
    createdAt: row.created_at.toISOString(),
  };
}

export async function listRules(db: Queryable): Promise<RoutingRule[]> {
  const { rows } = await db.query<RuleRow>(
    `${RULE_SELECT} ORDER BY c.name, s.slug NULLS FIRST, r.id`,
  );
  return rows.map(toRule);
}

export async function insertRule(
  db: Queryable,
  rule: { channelId: number; serviceId: number | null; minSeverity: Severity },
): Promise<RoutingRule> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO notification_rule (channel_id, service_id, min_severity)
     VALUES ($1, $2, $3) RETURNING id`,
    [rule.channelId, rule.serviceId, rule.minSeverity],
  );
  const created = await db.query<RuleRow>(`${RULE_SELECT} WHERE r.id = $1`, [
    rows[0]!.id,
  ]);
  return toRule(created.rows[0]!);
}

export async function deleteRule(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM notification_rule WHERE id = $1",
    [id],
  );
  return rowCount === 1;
}

export type DeliveryAttempt = {
  attempt: number;
  succeeded: boolean;
  httpStatus: number | null;
  smtpResponse: string | null;
  error: string | null;
  durationMs: number;
  createdAt: string;
};

export type DeliveryLogEntry = {
  id: number;
  channelId: number;
  channelName: string;
  channelType: ChannelType;
  incidentId: number | null;
  incidentTitle: string | null;
  event: string;
  /** Escalation level and person of an escalation page; null otherwise. */
  escalationLevel: number | null;
  recipientName: string | null;
  status: "pending" | "retrying" | "sent" | "failed";
  attempts: DeliveryAttempt[];
  lastError: string | null;
  nextAttemptAt: string | null;
  sentAt: string | null;
  createdAt: string;
};

/** Returns the newest deliveries with all their attempts, newest first. */
export async function listDeliveries(
  db: Queryable,
  options: { limit: number; channelId?: number },
): Promise<DeliveryLogEntry[]> {
  const { rows } = await db.query<{
    id: number;
    channel_id: number;
    channel_name: string;
    channel_type: ChannelType;
    incident_id: number | null;
    incident_title: string | null;
    event: string;
    escalation_level: number | null;
    recipient_name: string | null;
    status: DeliveryLogEntry["status"];
    last_error: string | null;
    next_attempt_at: Date | null;
    sent_at: Date | null;
    created_at: Date;
    attempts: Array<{
      attempt: number;
      succeeded: boolean;
      http_status: number | null;
      smtp_response: string | null;
      error: string | null;
      duration_ms: number;
      created_at: string;
    }>;
  }>(
    `SELECT d.id, d.channel_id, c.name AS channel_name, c.type AS channel_type,
            d.incident_id, i.title AS incident_title, d.event, d.status,
            d.escalation_level, d.recipient_name,
            d.last_error, d.next_attempt_at, d.sent_at, d.created_at,
            COALESCE((SELECT json_agg(a ORDER BY a.attempt)
                        FROM notification_attempt a WHERE a.delivery_id = d.id),
                     '[]') AS attempts
       FROM notification_delivery d
       JOIN notification_channel c ON c.id = d.channel_id
       LEFT JOIN incident i ON i.id = d.incident_id
      WHERE ($2::int IS NULL OR d.channel_id = $2)
      ORDER BY d.created_at DESC, d.id DESC
      LIMIT $1`,
    [options.limit, options.channelId ?? null],
  );
  return rows.map((row) => ({
    id: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    channelType: row.channel_type,
    incidentId: row.incident_id,
    incidentTitle: row.incident_title,
    event: row.event,
    escalationLevel: row.escalation_level,
    recipientName: row.recipient_name,
    status: row.status,
    attempts: row.attempts.map((attempt) => ({
      attempt: attempt.attempt,
      succeeded: attempt.succeeded,
      httpStatus: attempt.http_status,
      smtpResponse: attempt.smtp_response,
      error: attempt.error,
      durationMs: attempt.duration_ms,
      createdAt: new Date(attempt.created_at).toISOString(),
    })),
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
    sentAt: row.sent_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  }));
}
