import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import type { ReportCadence, ScheduleTiming } from "@/lib/reports/schedule-time";

// Reads and writes of report schedules and their runs, for the API, the
// /reports page and the send-scheduled-reports worker task.

type Queryable = Pick<pg.ClientBase, "query">;

export type ReportFormat = "pdf" | "csv";
export const REPORT_FORMATS: readonly ReportFormat[] = ["pdf", "csv"];
export type ReportRunStatus = "pending" | "retrying" | "sent" | "failed";

export type NamedRef = { id: number; slug: string; name: string };
export type ScheduleChannel = { id: number; name: string; enabled: boolean };

export type ReportScheduleRun = {
  id: number;
  periodStart: Date;
  periodEnd: Date;
  scheduledAt: Date;
  status: ReportRunStatus;
  attempts: number;
  error: string | null;
  nextAttemptAt: Date;
  sentAt: Date | null;
};

export type ReportSchedule = ScheduleTiming & {
  id: number;
  name: string;
  allServices: boolean;
  serviceIds: number[];
  teamIds: number[];
  formats: ReportFormat[];
  enabled: boolean;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  createdById: number | null;
  createdByName: string;
  createdAt: Date;
  updatedAt: Date;
  /** Services and teams that still exist, in slug order. */
  services: NamedRef[];
  teams: NamedRef[];
  channels: ScheduleChannel[];
  /** The run of the newest period, or null before the first run. */
  lastRun: ReportScheduleRun | null;
};

/** Settings of a schedule as the API writes them, with the selection as ids. */
export type ScheduleWrite = ScheduleTiming & {
  name: string;
  allServices: boolean;
  serviceIds: number[];
  teamIds: number[];
  formats: ReportFormat[];
  channelIds: number[];
  enabled: boolean;
  nextRunAt: Date | null;
};

type RunRow = {
  id: number;
  period_start: Date;
  period_end: Date;
  scheduled_at: Date;
  status: ReportRunStatus;
  attempts: number;
  error: string | null;
  next_attempt_at: Date;
  sent_at: Date | null;
};

type ScheduleRow = {
  id: number;
  name: string;
  cadence: ReportCadence;
  day_of_week: number | null;
  day_of_month: number | null;
  last_day_of_month: boolean;
  time_of_day: string;
  time_zone: string;
  all_services: boolean;
  service_ids: number[] | null;
  team_ids: number[] | null;
  // node-postgres returns an array of a custom enum type as its text form.
  formats: string;
  enabled: boolean;
  next_run_at: Date | null;
  last_run_at: Date | null;
  created_by_id: number | null;
  created_by_name: string;
  created_at: Date;
  updated_at: Date;
  services: NamedRef[] | null;
  teams: NamedRef[] | null;
  channels: ScheduleChannel[] | null;
  last_run: (Omit<RunRow, "period_start" | "period_end" | "scheduled_at" | "next_attempt_at" | "sent_at"> & {
    period_start: string;
    period_end: string;
    scheduled_at: string;
    next_attempt_at: string;
    sent_at: string | null;
  }) | null;
};

const SCHEDULE_SELECT = `
  SELECT r.*, r.formats::text AS formats,
         (SELECT json_agg(json_build_object('id', s.id, 'slug', s.slug, 'name', s.name) ORDER BY s.slug)
            FROM service s WHERE s.id = ANY(r.service_ids)) AS services,
         (SELECT json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name) ORDER BY t.slug)
            FROM team t WHERE t.id = ANY(r.team_ids)) AS teams,
         (SELECT json_agg(json_build_object('id', c.id, 'name', c.name, 'enabled', c.enabled) ORDER BY c.name)
            FROM report_schedule_channel rc JOIN notification_channel c ON c.id = rc.channel_id
           WHERE rc.schedule_id = r.id) AS channels,
         (SELECT row_to_json(run) FROM report_schedule_run run
           WHERE run.schedule_id = r.id ORDER BY run.period_start DESC LIMIT 1) AS last_run
    FROM report_schedule r`;

function parseFormats(text: string): ReportFormat[] {
  return text
    .replace(/^\{|\}$/g, "")
    .split(",")
    .filter((format): format is ReportFormat => format === "pdf" || format === "csv");
}

function toRun(row: RunRow): ReportScheduleRun {
  return {
    id: row.id,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    scheduledAt: row.scheduled_at,
    status: row.status,
    attempts: row.attempts,
    error: row.error,
    nextAttemptAt: row.next_attempt_at,
    sentAt: row.sent_at,
  };
}

function toSchedule(row: ScheduleRow): ReportSchedule {
  const last = row.last_run;
  return {
    id: row.id,
    name: row.name,
    cadence: row.cadence,
    dayOfWeek: row.day_of_week,
    dayOfMonth: row.day_of_month,
    lastDayOfMonth: row.last_day_of_month,
    timeOfDay: row.time_of_day,
    timeZone: row.time_zone,
    allServices: row.all_services,
    serviceIds: row.service_ids ?? [],
    teamIds: row.team_ids ?? [],
    formats: parseFormats(row.formats),
    enabled: row.enabled,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    createdById: row.created_by_id,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    services: row.services ?? [],
    teams: row.teams ?? [],
    channels: row.channels ?? [],
    lastRun: last
      ? {
          id: last.id,
          periodStart: new Date(last.period_start),
          periodEnd: new Date(last.period_end),
          scheduledAt: new Date(last.scheduled_at),
          status: last.status,
          attempts: last.attempts,
          error: last.error,
          nextAttemptAt: new Date(last.next_attempt_at),
          sentAt: last.sent_at === null ? null : new Date(last.sent_at),
        }
      : null,
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === "23505" && pgError.constraint === constraint;
}

function nameTaken(name: string): ApiError {
  return new ApiError(409, "name_taken", `a report schedule named ${JSON.stringify(name)} exists already`, {
    field: "name",
  });
}

/** Lists every schedule, ordered by name. */
export async function listSchedules(db: Queryable): Promise<ReportSchedule[]> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_SELECT} ORDER BY r.name, r.id`);
  return rows.map(toSchedule);
}

export async function findSchedule(db: Queryable, id: number): Promise<ReportSchedule | null> {
  const { rows } = await db.query<ScheduleRow>(`${SCHEDULE_SELECT} WHERE r.id = $1`, [id]);
  return rows[0] ? toSchedule(rows[0]) : null;
}

/** Lists the newest runs of a schedule, newest period first. */
export async function listRuns(db: Queryable, scheduleId: number, limit = 20): Promise<ReportScheduleRun[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT * FROM report_schedule_run WHERE schedule_id = $1
      ORDER BY period_start DESC LIMIT $2`,
    [scheduleId, limit],
  );
  return rows.map(toRun);
}

async function replaceChannels(db: Queryable, scheduleId: number, channelIds: number[]): Promise<void> {
  await db.query("DELETE FROM report_schedule_channel WHERE schedule_id = $1", [scheduleId]);
  await db.query(
    `INSERT INTO report_schedule_channel (schedule_id, channel_id)
     SELECT $1, unnest($2::int[])`,
    [scheduleId, channelIds],
  );
}

function writeValues(input: ScheduleWrite): unknown[] {
  return [
    input.name,
    input.cadence,
    input.dayOfWeek,
    input.dayOfMonth,
    input.lastDayOfMonth,
    input.timeOfDay,
    input.timeZone,
    input.allServices,
    input.serviceIds,
    input.teamIds,
    input.formats,
    input.enabled,
    input.nextRunAt,
  ];
}

/**
 * Inserts a schedule and its channels inside the caller's transaction and
 * returns its id. Throws a 409 ApiError when the name is taken.
 */
export async function insertSchedule(
  db: Queryable,
  input: ScheduleWrite,
  createdBy: { id: number | null; name: string },
): Promise<number> {
  try {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO report_schedule (name, cadence, day_of_week, day_of_month, last_day_of_month,
         time_of_day, time_zone, all_services, service_ids, team_ids, formats, enabled,
         next_run_at, created_by_id, created_by_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::"ReportFormat"[], $12, $13, $14, $15)
       RETURNING id`,
      [...writeValues(input), createdBy.id, createdBy.name],
    );
    const id = rows[0]!.id;
    await replaceChannels(db, id, input.channelIds);
    return id;
  } catch (error) {
    if (isUniqueViolation(error, "report_schedule_name_key")) throw nameTaken(input.name);
    throw error;
  }
}

/**
 * Replaces a schedule's settings and channels inside the caller's
 * transaction. Returns false when no schedule has this id.
 */
export async function updateSchedule(db: Queryable, id: number, input: ScheduleWrite): Promise<boolean> {
  try {
    const { rowCount } = await db.query(
      `UPDATE report_schedule SET name = $1, cadence = $2, day_of_week = $3, day_of_month = $4,
         last_day_of_month = $5, time_of_day = $6, time_zone = $7, all_services = $8,
         service_ids = $9, team_ids = $10, formats = $11::"ReportFormat"[], enabled = $12,
         next_run_at = $13, updated_at = now()
       WHERE id = $14`,
      [...writeValues(input), id],
    );
    if (rowCount === 0) return false;
    await replaceChannels(db, id, input.channelIds);
    return true;
  } catch (error) {
    if (isUniqueViolation(error, "report_schedule_name_key")) throw nameTaken(input.name);
    throw error;
  }
}

/** Deletes a schedule with its runs. Returns false when no schedule has this id. */
export async function deleteSchedule(db: Queryable, id: number): Promise<boolean> {
  // report_schedule_test_send has no foreign key, so its row goes in the
  // same statement.
  const { rows } = await db.query<{ deleted: number }>(
    `WITH removed AS (DELETE FROM report_schedule WHERE id = $1 RETURNING id),
          test_send AS (DELETE FROM report_schedule_test_send WHERE schedule_id IN (SELECT id FROM removed))
     SELECT count(*)::int AS deleted FROM removed`,
    [id],
  );
  return (rows[0]?.deleted ?? 0) > 0;
}

export { toRun, type RunRow };
