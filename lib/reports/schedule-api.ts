import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import { authenticateModelRequest } from "@/lib/models/request-auth";
import { checkStoredText } from "@/lib/runbooks/text";
import { now } from "@/lib/clock";
import { loadReportServices } from "@/lib/reports/selection";
import {
  REPORT_FORMATS,
  type ReportSchedule,
  type ReportScheduleRun,
  type ScheduleWrite,
} from "@/lib/reports/schedule-store";
import {
  canonicalTimeZone,
  isValidTimeZone,
  nextRunAfter,
  reportPeriodFor,
  TIME_OF_DAY,
  type ScheduleTiming,
} from "@/lib/reports/schedule-time";

// Access checks, body parsing and JSON output of /api/v1/report-schedules.
// Managers and admins, and admin-scope API tokens not bound to a service,
// may use these routes (lib/auth/roles.ts canScheduleReports). Viewers and
// responders get 403.

/** The user or API token behind a request, as the schedule stores its creator. */
export type ScheduleActor = { type: "user" | "token"; id: number; name: string };

/** Authenticates a schedule request. Throws ApiError 401, 403 or 415. */
export async function authenticateScheduleRequest(request: Request): Promise<ScheduleActor> {
  const actor = await authenticateModelRequest(request, { minRole: "manager", scope: "admin" });
  if (actor.type === "token" && actor.serviceId !== null) {
    throw new ApiError(
      403,
      "forbidden",
      "report schedules may cover every service, so a token bound to one service may not manage them; use an unbound admin token",
      { logContext: { tokenId: actor.id } },
    );
  }
  return { type: actor.type, id: actor.id, name: actor.name };
}

const SLUG = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
  message: "must be a slug (1 to 63 characters of a-z, 0-9 and -)",
});

/** Maximum services or teams that one schedule names. */
const SELECTION_MAX = 200;
/** Maximum channels that one schedule sends through. */
const CHANNELS_MAX = 20;
/** Largest notification channel id, the maximum of a PostgreSQL integer. */
const CHANNEL_ID_MAX = 2_147_483_647;

// The name goes into the mail subject and body, so a control character such
// as CR or LF could forge a line there. checkStoredText rejects unpaired
// surrogates, which the database would store as U+FFFD.
const scheduleName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .superRefine((name, context) => {
    const control = /\p{Cc}/u.exec(name);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
      context.addIssue({
        code: "custom",
        message: `must not contain control characters, got U+${code} at position ${control.index}`,
      });
      return;
    }
    checkStoredText(name, context);
  });

const scheduleBody = z
  .strictObject({
    name: scheduleName,
    cadence: z.enum(["weekly", "monthly"]),
    dayOfWeek: z.number().int().min(1).max(7).nullable().optional(),
    dayOfMonth: z
      .union([z.number().int().min(1).max(28), z.literal("last")], {
        error: "must be a day from 1 to 28 or \"last\"",
      })
      .nullable()
      .optional(),
    timeOfDay: z.string().regex(TIME_OF_DAY, { message: "must be a 24-hour time HH:MM such as 08:00" }),
    timeZone: z
      .string()
      .refine(isValidTimeZone, {
        message: "must be an IANA time zone such as Europe/Berlin or UTC",
      })
      .transform(canonicalTimeZone),
    services: z.array(SLUG).max(SELECTION_MAX).default([]),
    teams: z.array(SLUG).max(SELECTION_MAX).default([]),
    formats: z.array(z.enum(REPORT_FORMATS)).min(1).max(2),
    channels: z
      .array(
        z.number().int().positive().max(CHANNEL_ID_MAX, {
          message: `must be a notification channel id from 1 to ${CHANNEL_ID_MAX}`,
        }),
      )
      .min(1)
      .max(CHANNELS_MAX),
    enabled: z.boolean().default(true),
  })
  .superRefine((input, context) => {
    if (input.cadence === "weekly") {
      if (input.dayOfWeek == null) {
        context.addIssue({ code: "custom", path: ["dayOfWeek"], message: "is required for a weekly schedule (1 = Monday to 7 = Sunday)" });
      }
      if (input.dayOfMonth != null) {
        context.addIssue({ code: "custom", path: ["dayOfMonth"], message: "must be null for a weekly schedule" });
      }
    } else {
      if (input.dayOfMonth == null) {
        context.addIssue({ code: "custom", path: ["dayOfMonth"], message: "is required for a monthly schedule (1 to 28 or \"last\")" });
      }
      if (input.dayOfWeek != null) {
        context.addIssue({ code: "custom", path: ["dayOfWeek"], message: "must be null for a monthly schedule" });
      }
    }
    if (new Set(input.formats).size !== input.formats.length) {
      context.addIssue({ code: "custom", path: ["formats"], message: "must not repeat a format" });
    }
  });

/** A schedule as the API takes it: slugs for services and teams, channel ids. */
export type ScheduleInput = z.output<typeof scheduleBody>;

async function loadTeamIds(slugs: string[]): Promise<number[]> {
  if (slugs.length === 0) return [];
  const { rows } = await getPool().query<{ id: number; slug: string }>(
    "SELECT id, slug FROM team WHERE slug = ANY($1::text[]) ORDER BY slug",
    [slugs],
  );
  const found = new Set(rows.map((row) => row.slug));
  const missing = slugs.find((slug) => !found.has(slug));
  if (missing !== undefined) {
    throw new ApiError(
      400,
      "invalid_field",
      `teams names team ${JSON.stringify(missing)}, which does not exist; GET /api/v1/teams lists the teams`,
      { field: "teams" },
    );
  }
  return rows.map((row) => row.id);
}

/**
 * Checks that every channel exists and is an email channel, and returns the
 * ids without repeats. Throws 404 or 422 naming `channels`.
 */
async function checkChannels(ids: number[]): Promise<number[]> {
  const unique = [...new Set(ids)];
  const { rows } = await getPool().query<{ id: number; name: string; type: string }>(
    "SELECT id, name, type FROM notification_channel WHERE id = ANY($1::int[])",
    [unique],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const id of unique) {
    const channel = byId.get(id);
    if (!channel) {
      throw new ApiError(404, "not_found", `channels names notification channel ${id}, which does not exist`, {
        field: "channels",
      });
    }
    if (channel.type !== "email") {
      throw new ApiError(
        422,
        "not_an_email_channel",
        `channels names channel ${id} (${JSON.stringify(channel.name)}) of type ${channel.type}; reports are sent by email only, so choose email channels`,
        { field: "channels" },
      );
    }
  }
  return unique;
}

/**
 * Validates a schedule body, looks up its services, teams and channels, and
 * computes its next run time. Throws 400, 404 or 422 naming the field.
 */
export async function resolveScheduleInput(body: unknown): Promise<ScheduleWrite> {
  const input = parseInput(scheduleBody, body);
  const services = input.services.length === 0 ? [] : await loadReportServices([...new Set(input.services)]);
  const teamIds = await loadTeamIds([...new Set(input.teams)]);
  const channelIds = await checkChannels(input.channels);
  const timing = {
    cadence: input.cadence,
    dayOfWeek: input.cadence === "weekly" ? input.dayOfWeek! : null,
    dayOfMonth: input.cadence === "monthly" && input.dayOfMonth !== "last" ? input.dayOfMonth! : null,
    lastDayOfMonth: input.cadence === "monthly" && input.dayOfMonth === "last",
    timeOfDay: input.timeOfDay,
    timeZone: input.timeZone,
  };
  return {
    ...timing,
    name: input.name,
    allServices: services.length === 0 && teamIds.length === 0,
    serviceIds: services.map((service) => service.id),
    teamIds,
    formats: input.formats,
    channelIds,
    enabled: input.enabled,
    nextRunAt: input.enabled ? nextRunAfter(timing, now()) : null,
  };
}

/**
 * Merges a PATCH body into the stored schedule and resolves the result like
 * a new schedule. Fields left out keep their stored values.
 */
export async function resolveSchedulePatch(stored: ReportSchedule, body: unknown): Promise<ScheduleWrite> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_body", "request body must be a JSON object");
  }
  const patch = body as Record<string, unknown>;
  rejectStaleSelection(stored, patch);
  const base: Record<string, unknown> = {
    name: stored.name,
    cadence: stored.cadence,
    dayOfWeek: stored.dayOfWeek,
    dayOfMonth: stored.lastDayOfMonth ? "last" : stored.dayOfMonth,
    timeOfDay: stored.timeOfDay,
    timeZone: stored.timeZone,
    services: stored.services.map((service) => service.slug),
    teams: stored.teams.map((team) => team.slug),
    formats: stored.formats,
    channels: stored.channels.map((channel) => channel.id),
    enabled: stored.enabled,
  };
  // Switching the cadence drops the day field of the other cadence, unless
  // the body sets it.
  if (patch.cadence === "weekly" && !("dayOfMonth" in patch)) base.dayOfMonth = null;
  if (patch.cadence === "monthly" && !("dayOfWeek" in patch)) base.dayOfWeek = null;
  const input = await resolveScheduleInput({ ...base, ...patch });

  // Keep a due nextRunAt that the worker has not reached yet, unless the
  // timing or the enabled flag changed.
  const sameTiming =
    input.cadence === stored.cadence &&
    input.dayOfWeek === stored.dayOfWeek &&
    input.dayOfMonth === stored.dayOfMonth &&
    input.lastDayOfMonth === stored.lastDayOfMonth &&
    input.timeOfDay === stored.timeOfDay &&
    input.timeZone === stored.timeZone;
  if (sameTiming && input.enabled && stored.enabled && stored.nextRunAt !== null) {
    return { ...input, nextRunAt: stored.nextRunAt };
  }
  if (input.nextRunAt !== null && stored.lastRun !== null) {
    return { ...input, nextRunAt: firstRunAfterPeriod(input, input.nextRunAt, stored.lastRun.periodEnd) };
  }
  return input;
}

/**
 * Rejects a PATCH that would keep a selection naming deleted services or
 * teams, because merging the stored slugs would drop the deleted ones and
 * could widen the schedule to every service. The body must set the field
 * that went stale. Throws a 409 naming `services` or `teams`.
 */
function rejectStaleSelection(stored: ReportSchedule, patch: Record<string, unknown>): void {
  const deletedServices = stored.serviceIds.filter((id) => !stored.services.some((service) => service.id === id));
  if (deletedServices.length > 0 && !("services" in patch)) {
    throw new ApiError(
      409,
      "stale_selection",
      `report schedule ${stored.id} names deleted service ids ${deletedServices.join(", ")}; ` +
        "send services with the services to keep",
      { field: "services" },
    );
  }
  const deletedTeams = stored.teamIds.filter((id) => !stored.teams.some((team) => team.id === id));
  if (deletedTeams.length > 0 && !("teams" in patch)) {
    throw new ApiError(
      409,
      "stale_selection",
      `report schedule ${stored.id} names deleted team ids ${deletedTeams.join(", ")}; ` +
        "send teams with the teams to keep",
      { field: "teams" },
    );
  }
}

/**
 * Returns the first run time from `candidate` on whose report period starts
 * at or after `sentUntil`, the end of the newest period already queued. A
 * change of time zone or cadence thus skips a period that would overlap one
 * already mailed.
 */
function firstRunAfterPeriod(timing: ScheduleTiming, candidate: Date, sentUntil: Date): Date {
  let runAt = candidate;
  // A week or month period starts at most one period before its run time,
  // so a few steps always reach a period after sentUntil.
  for (let step = 0; step < 3; step += 1) {
    if (reportPeriodFor(timing, runAt).from.getTime() >= sentUntil.getTime()) break;
    runAt = nextRunAfter(timing, runAt);
  }
  return runAt;
}

function runJson(run: ReportScheduleRun) {
  return {
    id: run.id,
    periodStart: run.periodStart.toISOString(),
    periodEnd: run.periodEnd.toISOString(),
    scheduledAt: run.scheduledAt.toISOString(),
    status: run.status,
    attempts: run.attempts,
    error: run.error,
    nextAttemptAt: run.status === "pending" || run.status === "retrying" ? run.nextAttemptAt.toISOString() : null,
    sentAt: run.sentAt?.toISOString() ?? null,
  };
}

/** A schedule as the API returns it. */
export function scheduleJson(schedule: ReportSchedule, runs?: ReportScheduleRun[]) {
  return {
    id: schedule.id,
    name: schedule.name,
    cadence: schedule.cadence,
    dayOfWeek: schedule.dayOfWeek,
    dayOfMonth: schedule.lastDayOfMonth ? "last" : schedule.dayOfMonth,
    timeOfDay: schedule.timeOfDay,
    timeZone: schedule.timeZone,
    allServices: schedule.allServices,
    services: schedule.services,
    teams: schedule.teams,
    formats: schedule.formats,
    channels: schedule.channels,
    enabled: schedule.enabled,
    nextRunAt: schedule.nextRunAt?.toISOString() ?? null,
    lastRunAt: schedule.lastRunAt?.toISOString() ?? null,
    lastRun: schedule.lastRun ? runJson(schedule.lastRun) : null,
    createdBy: schedule.createdByName,
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
    ...(runs ? { runs: runs.map(runJson) } : {}),
  };
}
