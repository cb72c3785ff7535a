import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import type { Queryable } from "@/lib/incidents/events";
import {
  nextHandoff,
  whoIsOnCall,
  type Handoff,
  type LayerDefinition,
  type OnCallShift,
  type OverrideDefinition,
  type RotationUnit,
  type ScheduleDefinition,
} from "@/lib/oncall/rotation";

// Reads and writes of on-call schedules, their layers and overrides.

export type LayerInput = {
  name: string;
  rotationUnit: RotationUnit;
  rotationLength: number;
  handoffTime: string;
  startDate: string;
  endDate: string | null;
  /** User ids in rotation order. */
  members: number[];
};

export type ScheduleInput = {
  name: string;
  description: string | null;
  timeZone: string;
  /** Layers from lowest to highest priority. */
  layers: LayerInput[];
};

export type OverrideInput = {
  userId: number;
  startsAt: Date;
  endsAt: Date;
  reason: string | null;
};

export type Actor = { id: number | null; name: string; type: "user" | "token" };

export type StoredSchedule = ScheduleDefinition & {
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
};

type ScheduleRow = {
  id: number;
  name: string;
  description: string | null;
  time_zone: string;
  created_at: Date;
  updated_at: Date;
  layers: Array<{
    id: number;
    name: string;
    position: number;
    rotation_unit: RotationUnit;
    rotation_length: number;
    handoff_time: string;
    start_date: string;
    end_date: string | null;
    members: Array<{ user_id: number; name: string; email: string }>;
  }>;
  overrides: Array<{
    id: number;
    user_id: number;
    name: string;
    email: string;
    starts_at: string;
    ends_at: string;
  }>;
};

// Layers with their members in order, and the overrides that end after $1,
// because older ones cannot decide who is on call from $1 on.
const SCHEDULE_SELECT = `
  SELECT s.id, s.name, s.description, s.time_zone, s.created_at, s.updated_at,
         COALESCE((
           SELECT json_agg(json_build_object(
                    'id', l.id, 'name', l.name, 'position', l.position,
                    'rotation_unit', l.rotation_unit, 'rotation_length', l.rotation_length,
                    'handoff_time', l.handoff_time, 'start_date', l.start_date,
                    'end_date', l.end_date,
                    'members', COALESCE((
                      SELECT json_agg(json_build_object(
                               'user_id', u.id, 'name', u.name, 'email', u.email)
                             ORDER BY m.position)
                        FROM oncall_layer_member m
                        JOIN user_account u ON u.id = m.user_id
                       WHERE m.layer_id = l.id), '[]'::json))
                  ORDER BY l.position)
             FROM oncall_layer l WHERE l.schedule_id = s.id), '[]'::json) AS layers,
         COALESCE((
           SELECT json_agg(json_build_object(
                    'id', o.id, 'user_id', o.user_id, 'name', u.name, 'email', u.email,
                    'starts_at', o.starts_at, 'ends_at', o.ends_at)
                  ORDER BY o.starts_at, o.id)
             FROM oncall_override o
             JOIN user_account u ON u.id = o.user_id
            WHERE o.schedule_id = s.id AND o.ends_at > $1::timestamptz), '[]'::json) AS overrides
    FROM oncall_schedule s`;

function toSchedule(row: ScheduleRow): StoredSchedule {
  const layers: LayerDefinition[] = row.layers.map((layer) => ({
    id: layer.id,
    name: layer.name,
    position: layer.position,
    rotationUnit: layer.rotation_unit,
    rotationLength: layer.rotation_length,
    handoffTime: layer.handoff_time,
    startDate: layer.start_date,
    endDate: layer.end_date,
    members: layer.members.map((member) => ({
      userId: member.user_id,
      name: member.name,
      email: member.email,
    })),
  }));
  const overrides: OverrideDefinition[] = row.overrides.map((override) => ({
    id: override.id,
    userId: override.user_id,
    name: override.name,
    email: override.email,
    startsAt: new Date(override.starts_at),
    endsAt: new Date(override.ends_at),
  }));
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    timeZone: row.time_zone,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    layers,
    overrides,
  };
}

/** Loads one schedule with the overrides that end after `since`. */
export async function loadSchedule(
  db: Queryable,
  id: number,
  since: Date,
): Promise<StoredSchedule | null> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_SELECT} WHERE s.id = $2`, [since, id]);
  return rows[0] ? toSchedule(rows[0]) : null;
}

/** Loads every schedule, by name, with the overrides that end after `since`. */
export async function listSchedules(db: Queryable, since: Date): Promise<StoredSchedule[]> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_SELECT} ORDER BY s.name, s.id`, [since]);
  return rows.map(toSchedule);
}

export type ScheduleStatus = {
  onCall: OnCallShift | null;
  nextHandoff: Handoff | null;
};

/** Returns who is on call in a schedule at `at` and the next handoff. */
export function scheduleStatus(schedule: ScheduleDefinition, at: Date): ScheduleStatus {
  return { onCall: whoIsOnCall(schedule, at), nextHandoff: nextHandoff(schedule, at) };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === "23505" && pgError.constraint === constraint;
}

/** Roles that can acknowledge incidents, so people on call must have one. */
export const ONCALL_ROLES = ["responder", "admin"];

/**
 * Returns the error for a user that cannot be on call, or null: a 400 when
 * `userId` is no user, a 422 when the user is a viewer, because viewers
 * cannot acknowledge the incidents they would be paged for.
 */
export function onCallUserProblem(
  field: string,
  userId: number,
  user: { name: string; role: string } | undefined,
): ApiError | null {
  if (!user) {
    return new ApiError(400, "invalid_field", `${field} is user id ${userId}, which does not exist`, { field });
  }
  if (!ONCALL_ROLES.includes(user.role)) {
    return new ApiError(
      422,
      "not_responder",
      `${field} is user ${userId} (${user.name}), who has the ${user.role} role and cannot acknowledge incidents; pick a responder or an admin`,
      { field },
    );
  }
  return null;
}

/** Loads the name and role of each user id that exists. */
export async function loadUserRoles(
  db: Queryable,
  ids: number[],
): Promise<Map<number, { name: string; role: string }>> {
  if (ids.length === 0) return new Map();
  // FOR KEY SHARE keeps the users from being deleted before the commit.
  const { rows } = await db.query<{ id: number; name: string; role: string }>(
    "SELECT id, name, role::text AS role FROM user_account WHERE id = ANY($1::int[]) FOR KEY SHARE",
    [[...new Set(ids)]],
  );
  return new Map(rows.map((row) => [row.id, { name: row.name, role: row.role }]));
}

/** Throws naming the first member that is not a user (400) or not a responder or admin (422). */
async function requireUsers(db: Queryable, layers: LayerInput[]): Promise<void> {
  const users = await loadUserRoles(db, layers.flatMap((layer) => layer.members));
  for (const [layerIndex, layer] of layers.entries()) {
    for (const [memberIndex, userId] of layer.members.entries()) {
      const problem = onCallUserProblem(`layers[${layerIndex}].members[${memberIndex}]`, userId, users.get(userId));
      if (problem) throw problem;
    }
  }
}

async function insertLayers(db: Queryable, scheduleId: number, layers: LayerInput[]): Promise<void> {
  for (const [position, layer] of layers.entries()) {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO oncall_layer
         (schedule_id, position, name, rotation_unit, rotation_length, handoff_time,
          start_date, end_date)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [
        scheduleId,
        position,
        layer.name,
        layer.rotationUnit,
        layer.rotationLength,
        layer.handoffTime,
        layer.startDate,
        layer.endDate,
      ],
    );
    await db.query(
      `INSERT INTO oncall_layer_member (layer_id, position, user_id)
       SELECT $1, member.ordinality - 1, member.user_id
         FROM unnest($2::int[]) WITH ORDINALITY AS member(user_id, ordinality)`,
      [rows[0]!.id, layer.members],
    );
  }
}

function scheduleNameTaken(name: string): ApiError {
  return new ApiError(409, "name_taken", `a schedule named ${JSON.stringify(name)} exists already`, {
    field: "name",
  });
}

export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

/** Inserts a schedule with its layers and returns its id. */
export async function createSchedule(pool: pg.Pool, input: ScheduleInput): Promise<number> {
  try {
    return await inTransaction(pool, async (client) => {
      await requireUsers(client, input.layers);
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO oncall_schedule (name, description, time_zone)
         VALUES ($1, $2, $3) RETURNING id`,
        [input.name, input.description, input.timeZone],
      );
      const id = rows[0]!.id;
      await insertLayers(client, id, input.layers);
      return id;
    });
  } catch (error) {
    if (isUniqueViolation(error, "oncall_schedule_name_key")) throw scheduleNameTaken(input.name);
    throw error;
  }
}

/**
 * Changes a schedule's fields; `layers`, when given, replaces all layers.
 * Returns false when the schedule does not exist.
 */
export async function updateSchedule(
  pool: pg.Pool,
  id: number,
  input: Partial<ScheduleInput>,
): Promise<boolean> {
  try {
    return await inTransaction(pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE oncall_schedule
            SET name = COALESCE($2, name),
                description = CASE WHEN $3::boolean THEN $4 ELSE description END,
                time_zone = COALESCE($5, time_zone),
                updated_at = now()
          WHERE id = $1`,
        [
          id,
          input.name ?? null,
          input.description !== undefined,
          input.description ?? null,
          input.timeZone ?? null,
        ],
      );
      if (rowCount === 0) return false;
      if (input.layers !== undefined) {
        await requireUsers(client, input.layers);
        await client.query("DELETE FROM oncall_layer WHERE schedule_id = $1", [id]);
        await insertLayers(client, id, input.layers);
      }
      return true;
    });
  } catch (error) {
    if (input.name !== undefined && isUniqueViolation(error, "oncall_schedule_name_key")) {
      throw scheduleNameTaken(input.name);
    }
    throw error;
  }
}

/**
 * Deletes a schedule with its layers and overrides. Throws a 409 while an
 * escalation policy targets it, so that no policy loses a level silently.
 */
export async function deleteSchedule(pool: pg.Pool, id: number): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows: locked } = await client.query(
      "SELECT id FROM oncall_schedule WHERE id = $1 FOR UPDATE",
      [id],
    );
    if (locked.length === 0) return false;
    const { rows } = await client.query<{ name: string }>(
      `SELECT DISTINCT p.name
         FROM escalation_target t
         JOIN escalation_level l ON l.id = t.level_id
         JOIN escalation_policy p ON p.id = l.policy_id
        WHERE t.schedule_id = $1
        ORDER BY p.name`,
      [id],
    );
    if (rows.length > 0) {
      const names = rows.map((row) => row.name).join(", ");
      throw new ApiError(
        409,
        "schedule_in_use",
        `schedule ${id} is a target of the escalation policies ${names}; remove it from them first`,
        { field: "id" },
      );
    }
    await client.query("DELETE FROM oncall_schedule WHERE id = $1", [id]);
    return true;
  });
}

export type StoredOverride = {
  id: number;
  scheduleId: number;
  userId: number;
  userName: string;
  startsAt: Date;
  endsAt: Date;
  reason: string | null;
  createdByName: string;
  createdAt: Date;
};

type OverrideRow = {
  id: number;
  schedule_id: number;
  user_id: number;
  user_name: string;
  starts_at: Date;
  ends_at: Date;
  reason: string | null;
  created_by_name: string;
  created_at: Date;
};

function toOverride(row: OverrideRow): StoredOverride {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    userId: row.user_id,
    userName: row.user_name,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    reason: row.reason,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
  };
}

/** Lists a schedule's overrides that end after `since`, by start. */
export async function listOverrides(
  db: Queryable,
  scheduleId: number,
  since: Date,
): Promise<StoredOverride[]> {
  const { rows } = await db.query<OverrideRow>(
    `SELECT o.id, o.schedule_id, o.user_id, u.name AS user_name, o.starts_at, o.ends_at,
            o.reason, o.created_by_name, o.created_at
       FROM oncall_override o JOIN user_account u ON u.id = o.user_id
      WHERE o.schedule_id = $1 AND o.ends_at > $2
      ORDER BY o.starts_at, o.id`,
    [scheduleId, since],
  );
  return rows.map(toOverride);
}

/**
 * Inserts an override. Throws naming userId a 400 when the user does not
 * exist and a 422 when the user is not a responder or admin.
 */
export async function createOverride(
  db: Queryable,
  scheduleId: number,
  input: OverrideInput,
  actor: Actor,
): Promise<StoredOverride> {
  const users = await loadUserRoles(db, [input.userId]);
  const problem = onCallUserProblem("userId", input.userId, users.get(input.userId));
  if (problem) throw problem;
  const { rows } = await db.query<OverrideRow>(
    `WITH inserted AS (
       INSERT INTO oncall_override
         (schedule_id, user_id, starts_at, ends_at, reason, created_by_id, created_by_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       RETURNING *)
     SELECT inserted.*, u.name AS user_name
       FROM inserted JOIN user_account u ON u.id = inserted.user_id`,
    [
      scheduleId,
      input.userId,
      input.startsAt,
      input.endsAt,
      input.reason,
      actor.type === "user" ? actor.id : null,
      actor.name,
    ],
  );
  return toOverride(rows[0]!);
}

/** Deletes one override of a schedule; returns false when there is none. */
export async function deleteOverride(
  db: Queryable,
  scheduleId: number,
  overrideId: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    "DELETE FROM oncall_override WHERE id = $1 AND schedule_id = $2",
    [overrideId, scheduleId],
  );
  return (rowCount ?? 0) > 0;
}

/** Returns the users that schedules and policies can name (responders and admins), by name. */
export async function listUsers(
  db: Queryable,
): Promise<Array<{ id: number; name: string; email: string }>> {
  const { rows } = await db.query<{ id: number; name: string; email: string }>(
    `SELECT id, name, email FROM user_account
      WHERE role::text = ANY($1::text[]) ORDER BY name, id`,
    [ONCALL_ROLES],
  );
  return rows;
}
