import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import type { Queryable } from "@/lib/incidents/events";
import { inTransaction, loadUserRoles, onCallUserProblem } from "@/lib/oncall/schedules";

// Reads and writes of escalation policies, their levels and targets, and
// the paging channel setting.

export type TargetInput =
  | { type: "schedule"; scheduleId: number }
  | { type: "user"; userId: number }
  | { type: "channel"; channelId: number };

export type LevelInput = { delayMinutes: number; targets: TargetInput[] };

export type PolicyInput = {
  name: string;
  /** Service slug. */
  service: string;
  repeatCount: number;
  pageChannelId: number | null;
  levels: LevelInput[];
};

export type StoredTarget =
  | { type: "schedule"; scheduleId: number; name: string }
  | { type: "user"; userId: number; name: string; email: string }
  | { type: "channel"; channelId: number; name: string; channelType: string };

export type StoredLevel = { position: number; delayMinutes: number; targets: StoredTarget[] };

export type StoredPolicy = {
  id: number;
  name: string;
  serviceId: number;
  serviceSlug: string;
  serviceName: string;
  repeatCount: number;
  pageChannelId: number | null;
  pageChannelName: string | null;
  levels: StoredLevel[];
  createdAt: Date;
  updatedAt: Date;
};

type PolicyRow = {
  id: number;
  name: string;
  service_id: number;
  service_slug: string;
  service_name: string;
  repeat_count: number;
  page_channel_id: number | null;
  page_channel_name: string | null;
  created_at: Date;
  updated_at: Date;
  levels: Array<{
    position: number;
    delay_minutes: number;
    targets: Array<{
      kind: "schedule" | "user" | "channel";
      schedule_id: number | null;
      user_id: number | null;
      channel_id: number | null;
      name: string;
      email: string | null;
      channel_type: string | null;
    }>;
  }>;
};

const POLICY_SELECT = `
  SELECT p.id, p.name, p.service_id, s.slug AS service_slug, s.name AS service_name,
         p.repeat_count, p.page_channel_id, pc.name AS page_channel_name,
         p.created_at, p.updated_at,
         COALESCE((
           SELECT json_agg(json_build_object(
                    'position', l.position, 'delay_minutes', l.delay_minutes,
                    'targets', COALESCE((
                      SELECT json_agg(json_build_object(
                               'kind', t.kind, 'schedule_id', t.schedule_id,
                               'user_id', t.user_id, 'channel_id', t.channel_id,
                               'name', COALESCE(sc.name, u.name, c.name),
                               'email', u.email, 'channel_type', c.type)
                             ORDER BY t.id)
                        FROM escalation_target t
                        LEFT JOIN oncall_schedule sc ON sc.id = t.schedule_id
                        LEFT JOIN user_account u ON u.id = t.user_id
                        LEFT JOIN notification_channel c ON c.id = t.channel_id
                       WHERE t.level_id = l.id), '[]'::json))
                  ORDER BY l.position)
             FROM escalation_level l WHERE l.policy_id = p.id), '[]'::json) AS levels
    FROM escalation_policy p
    JOIN service s ON s.id = p.service_id
    LEFT JOIN notification_channel pc ON pc.id = p.page_channel_id`;

function toTarget(target: PolicyRow["levels"][number]["targets"][number]): StoredTarget {
  switch (target.kind) {
    case "schedule":
      return { type: "schedule", scheduleId: target.schedule_id!, name: target.name };
    case "user":
      return { type: "user", userId: target.user_id!, name: target.name, email: target.email ?? "" };
    case "channel":
      return {
        type: "channel",
        channelId: target.channel_id!,
        name: target.name,
        channelType: target.channel_type ?? "",
      };
  }
}

function toPolicy(row: PolicyRow): StoredPolicy {
  return {
    id: row.id,
    name: row.name,
    serviceId: row.service_id,
    serviceSlug: row.service_slug,
    serviceName: row.service_name,
    repeatCount: row.repeat_count,
    pageChannelId: row.page_channel_id,
    pageChannelName: row.page_channel_name,
    levels: row.levels.map((level) => ({
      position: level.position,
      delayMinutes: level.delay_minutes,
      targets: level.targets.map(toTarget),
    })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listPolicies(db: Queryable): Promise<StoredPolicy[]> {
  const { rows } = await db.query<PolicyRow>(`${POLICY_SELECT} ORDER BY p.name, p.id`);
  return rows.map(toPolicy);
}

export async function loadPolicy(db: Queryable, id: number): Promise<StoredPolicy | null> {
  const { rows } = await db.query<PolicyRow>(`${POLICY_SELECT} WHERE p.id = $1`, [id]);
  return rows[0] ? toPolicy(rows[0]) : null;
}

export async function loadServicePolicy(
  db: Queryable,
  serviceId: number,
): Promise<StoredPolicy | null> {
  const { rows } = await db.query<PolicyRow>(`${POLICY_SELECT} WHERE p.service_id = $1`, [serviceId]);
  return rows[0] ? toPolicy(rows[0]) : null;
}

function fieldError(field: string, message: string): ApiError {
  return new ApiError(400, "invalid_field", `${field} ${message}`, { field });
}

/**
 * Throws a 400 naming the first id that does not exist or does not fit, or
 * a 422 naming a user target that is not a responder or admin.
 */
async function requireReferences(db: Queryable, input: PolicyInput): Promise<number> {
  const { rows: services } = await db.query<{ id: number }>(
    "SELECT id FROM service WHERE slug = $1",
    [input.service],
  );
  if (services.length === 0) {
    throw fieldError("service", `is ${JSON.stringify(input.service)}, which is not a service`);
  }
  if (input.pageChannelId !== null) await requireEmailChannel(db, input.pageChannelId, "pageChannelId");

  const userIds = input.levels.flatMap((level) =>
    level.targets.flatMap((target) => (target.type === "user" ? [target.userId] : [])),
  );
  const users = await loadUserRoles(db, userIds);
  for (const [levelIndex, level] of input.levels.entries()) {
    for (const [targetIndex, target] of level.targets.entries()) {
      const path = `levels[${levelIndex}].targets[${targetIndex}]`;
      if (target.type === "user") {
        const problem = onCallUserProblem(`${path}.userId`, target.userId, users.get(target.userId));
        if (problem) throw problem;
        continue;
      }
      let sql: string;
      let id: number;
      let field: string;
      if (target.type === "schedule") {
        [sql, id, field] = ["SELECT 1 FROM oncall_schedule WHERE id = $1", target.scheduleId, "scheduleId"];
      } else {
        [sql, id, field] = ["SELECT 1 FROM notification_channel WHERE id = $1", target.channelId, "channelId"];
      }
      const { rows } = await db.query(sql, [id]);
      if (rows.length === 0) {
        throw fieldError(`${path}.${field}`, `is ${id}, which does not exist`);
      }
    }
  }
  return services[0]!.id;
}

/** Throws a 400 naming `field` unless the channel exists and sends email. */
export async function requireEmailChannel(
  db: Queryable,
  channelId: number,
  field: string,
): Promise<void> {
  const { rows } = await db.query<{ type: string }>(
    "SELECT type FROM notification_channel WHERE id = $1",
    [channelId],
  );
  if (rows.length === 0) throw fieldError(field, `is ${channelId}, which is not a notification channel`);
  if (rows[0]!.type !== "email") {
    throw fieldError(field, `must be an email channel, because pages go to people's addresses; channel ${channelId} is ${rows[0]!.type}`);
  }
}

async function insertLevels(db: Queryable, policyId: number, levels: LevelInput[]): Promise<void> {
  for (const [index, level] of levels.entries()) {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO escalation_level (policy_id, position, delay_minutes)
       VALUES ($1, $2, $3) RETURNING id`,
      [policyId, index + 1, level.delayMinutes],
    );
    const levelId = rows[0]!.id;
    for (const target of level.targets) {
      await db.query(
        `INSERT INTO escalation_target (level_id, kind, schedule_id, user_id, channel_id)
         VALUES ($1, $2, $3, $4, $5)`,
        [
          levelId,
          target.type,
          target.type === "schedule" ? target.scheduleId : null,
          target.type === "user" ? target.userId : null,
          target.type === "channel" ? target.channelId : null,
        ],
      );
    }
  }
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === "23505" && pgError.constraint === constraint;
}

function conflictError(error: unknown, input: Partial<PolicyInput>): ApiError | null {
  if (isUniqueViolation(error, "escalation_policy_name_key")) {
    return new ApiError(409, "name_taken", `an escalation policy named ${JSON.stringify(input.name)} exists already`, {
      field: "name",
    });
  }
  if (isUniqueViolation(error, "escalation_policy_service_id_key")) {
    return new ApiError(
      409,
      "service_has_policy",
      `service ${input.service} has an escalation policy already; change that policy instead`,
      { field: "service" },
    );
  }
  return null;
}

/** Inserts a policy with its levels and targets and returns its id. */
export async function createPolicy(pool: pg.Pool, input: PolicyInput): Promise<number> {
  try {
    return await inTransaction(pool, async (client) => {
      const serviceId = await requireReferences(client, input);
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO escalation_policy (name, service_id, repeat_count, page_channel_id)
         VALUES ($1, $2, $3, $4) RETURNING id`,
        [input.name, serviceId, input.repeatCount, input.pageChannelId],
      );
      await insertLevels(client, rows[0]!.id, input.levels);
      return rows[0]!.id;
    });
  } catch (error) {
    throw conflictError(error, input) ?? error;
  }
}

/**
 * Replaces a policy's fields, levels and targets. Escalations in progress
 * continue with the new levels at their next level number. Returns false
 * when the policy does not exist.
 */
export async function replacePolicy(pool: pg.Pool, id: number, input: PolicyInput): Promise<boolean> {
  try {
    return await inTransaction(pool, async (client) => {
      const serviceId = await requireReferences(client, input);
      const { rowCount } = await client.query(
        `UPDATE escalation_policy
            SET name = $2, service_id = $3, repeat_count = $4, page_channel_id = $5,
                updated_at = now()
          WHERE id = $1`,
        [id, input.name, serviceId, input.repeatCount, input.pageChannelId],
      );
      if (rowCount === 0) return false;
      await client.query("DELETE FROM escalation_level WHERE policy_id = $1", [id]);
      await insertLevels(client, id, input.levels);
      return true;
    });
  } catch (error) {
    throw conflictError(error, input) ?? error;
  }
}

/** Deletes a policy; escalations in progress under it stop. */
export async function deletePolicy(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM escalation_policy WHERE id = $1", [id]);
  return (rowCount ?? 0) > 0;
}

export type PagingSetting = { pagingChannelId: number | null; pagingChannelName: string | null };

/** Returns the email channel that pages people when a policy names none. */
export async function loadPagingSetting(db: Queryable): Promise<PagingSetting> {
  const { rows } = await db.query<{ id: number; name: string }>(
    `SELECT c.id, c.name FROM oncall_setting s
       JOIN notification_channel c ON c.id = s.paging_channel_id
      WHERE s.id = 1`,
  );
  return { pagingChannelId: rows[0]?.id ?? null, pagingChannelName: rows[0]?.name ?? null };
}

/** Sets (or with null clears) the paging channel. */
export async function savePagingChannel(db: Queryable, channelId: number | null): Promise<void> {
  if (channelId !== null) await requireEmailChannel(db, channelId, "pagingChannelId");
  await db.query(
    `INSERT INTO oncall_setting (id, paging_channel_id, updated_at) VALUES (1, $1, now())
     ON CONFLICT (id) DO UPDATE SET paging_channel_id = EXCLUDED.paging_channel_id,
                                    updated_at = now()`,
    [channelId],
  );
}
