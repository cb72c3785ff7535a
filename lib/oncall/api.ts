import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { parsePositiveId } from "@/lib/models/route-params";
import { authenticateModelRequest } from "@/lib/models/request-auth";
import type { PolicyInput } from "@/lib/oncall/policies";
import { isValidTimeZone, ROTATION_UNITS } from "@/lib/oncall/rotation";
import type { Actor, OverrideInput, ScheduleInput } from "@/lib/oncall/schedules";
import { labelMatcherSchema } from "@/lib/oncall/suppression";
import type { SilenceInput, WindowInput } from "@/lib/oncall/windows";

// Access checks and request parsing of the on-call API: schedules,
// overrides, escalation policies, maintenance windows and silences.

/** Parses a path id such as "12"; throws a 400 naming `field` otherwise. */
export const parseId = parsePositiveId;

/**
 * Returns the reader behind a request: any API token, or any signed-in
 * user's session.
 */
export async function authenticateOncallReader(request: Request): Promise<Actor> {
  const actor = await authenticateModelRequest(request, { minRole: "viewer", scope: "ingest" });
  return { id: actor.id, name: actor.name, type: actor.type };
}

/**
 * Returns the admin behind a request: an admin-scope API token that is not
 * bound to a service, or an admin's session. On-call settings span
 * services, so a token bound to one service gets 403.
 */
export async function authenticateOncallAdmin(request: Request): Promise<Actor> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(token, "admin");
    if (token.serviceId !== null) {
      throw new ApiError(
        403,
        "forbidden",
        "on-call settings span services, so a token bound to one service may not change them; use an unbound admin token",
        { logContext: { tokenId: token.id } },
      );
    }
    return { id: token.id, name: `API token ${token.name}`, type: "token" };
  }
  const actor = await authenticateModelRequest(request, { minRole: "admin", scope: "admin" });
  return { id: actor.id, name: actor.name, type: actor.type };
}

const name = z.string().trim().min(1).max(100);
const reason = z.string().trim().min(1).max(200);
const serviceSlug = z
  .string()
  .regex(/^[a-z0-9-]{1,63}$/, { message: "must be a service slug (1 to 63 characters of a-z, 0-9 and -)" });
const instant = z.iso
  .datetime({ offset: true, message: "must be an ISO 8601 time with a time zone, such as 2026-12-05T01:00:00Z" })
  .transform((value) => new Date(value));
const localDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date such as 2026-12-01" })
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), {
    message: "must be a real calendar date",
  });

/** Maximum length of an override, maintenance window or silence, in days. */
export const MAX_PERIOD_DAYS = 366;

const layerBody = z
  .strictObject({
    name,
    rotationUnit: z.enum(ROTATION_UNITS),
    rotationLength: z.number().int().min(1).max(1000),
    handoffTime: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: "must be a 24-hour time such as 09:00" }),
    startDate: localDate,
    endDate: localDate.nullable().default(null),
    members: z.array(z.number().int().positive()).min(1).max(50),
  })
  .superRefine((layer, context) => {
    if (layer.endDate !== null && layer.endDate <= layer.startDate) {
      context.addIssue({ code: "custom", path: ["endDate"], message: `must be after startDate ${layer.startDate}` });
    }
  });

const timeZone = z.string().refine(isValidTimeZone, {
  message: "must be an IANA time zone such as Europe/Madrid or UTC",
});

const scheduleBody = z.strictObject({
  name,
  description: z.string().trim().max(1000).nullable().default(null),
  timeZone,
  layers: z.array(layerBody).min(1).max(10),
});

const scheduleUpdateBody = z.strictObject({
  name: name.optional(),
  description: z.string().trim().max(1000).nullable().optional(),
  timeZone: timeZone.optional(),
  layers: z.array(layerBody).min(1).max(10).optional(),
});

/** Parses the body of POST /api/v1/schedules. */
export function parseScheduleBody(body: unknown): ScheduleInput {
  return parseInput(scheduleBody, body);
}

/** Parses the body of PATCH /api/v1/schedules/{id}; absent fields stay as they are. */
export function parseScheduleUpdate(body: unknown): Partial<ScheduleInput> {
  return parseInput(scheduleUpdateBody, body);
}

/** Adds an issue unless `startsAt` < `endsAt`, `endsAt` is after `now` and the span is at most MAX_PERIOD_DAYS. */
function checkPeriod(
  period: { startsAt: Date; endsAt: Date },
  now: Date,
  context: z.RefinementCtx,
): void {
  // A time that failed its format check reaches here unconverted.
  if (!(period.startsAt instanceof Date) || !(period.endsAt instanceof Date)) return;
  if (period.endsAt <= period.startsAt) {
    context.addIssue({ code: "custom", path: ["endsAt"], message: `must be after startsAt ${period.startsAt.toISOString()}` });
  } else if (period.endsAt <= now) {
    context.addIssue({ code: "custom", path: ["endsAt"], message: `must be in the future; it is ${period.endsAt.toISOString()}` });
  } else if (period.endsAt.getTime() - period.startsAt.getTime() > MAX_PERIOD_DAYS * 86_400_000) {
    context.addIssue({ code: "custom", path: ["endsAt"], message: `must be at most ${MAX_PERIOD_DAYS} days after startsAt` });
  }
}

/** Parses the body of POST /api/v1/schedules/{id}/overrides. */
export function parseOverrideBody(body: unknown, now: Date): OverrideInput {
  const schema = z
    .strictObject({
      userId: z.number().int().positive(),
      startsAt: instant,
      endsAt: instant,
      reason: z.string().trim().max(200).nullable().default(null),
    })
    .superRefine((value, context) => checkPeriod(value, now, context));
  return parseInput(schema, body);
}

const targetBody = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("schedule"), scheduleId: z.number().int().positive() }),
  z.strictObject({ type: z.literal("user"), userId: z.number().int().positive() }),
  z.strictObject({ type: z.literal("channel"), channelId: z.number().int().positive() }),
], { error: "must be schedule, user or channel" });

const policyBody = z.strictObject({
  name,
  service: serviceSlug,
  repeatCount: z.number().int().min(0).max(10).default(0),
  pageChannelId: z.number().int().positive().nullable().default(null),
  levels: z
    .array(
      z.strictObject({
        delayMinutes: z.number().int().min(1).max(1440),
        targets: z.array(targetBody).min(1).max(10),
      }),
    )
    .min(1)
    .max(10),
});

/** Parses the body of POST and PUT /api/v1/escalation-policies. */
export function parsePolicyBody(body: unknown): PolicyInput {
  return parseInput(policyBody, body);
}

/** Parses the body of POST /api/v1/maintenance-windows; startsAt defaults to `now`. */
export function parseWindowBody(body: unknown, now: Date): WindowInput {
  const schema = z
    .strictObject({
      service: serviceSlug,
      reason,
      startsAt: instant.optional(),
      endsAt: instant,
    })
    .transform((value) => ({ ...value, startsAt: value.startsAt ?? now }))
    .superRefine((value, context) => checkPeriod(value, now, context));
  return parseInput(schema, body);
}

/** Parses the body of POST /api/v1/silences; startsAt defaults to `now`. */
export function parseSilenceBody(body: unknown, now: Date): SilenceInput {
  const schema = z
    .strictObject({
      service: serviceSlug.nullable().default(null),
      matchers: z.array(labelMatcherSchema).max(20).default([]),
      reason,
      startsAt: instant.optional(),
      endsAt: instant,
    })
    .transform((value) => ({ ...value, startsAt: value.startsAt ?? now }))
    .superRefine((value, context) => {
      if (value.service === null && value.matchers.length === 0) {
        context.addIssue({
          code: "custom",
          path: ["matchers"],
          message: "must contain at least one matcher when service is null, so that a silence cannot mute every service",
        });
      }
      checkPeriod(value, now, context);
    });
  return parseInput(schema, body);
}

/** Parses the body of PUT /api/v1/oncall/settings. */
export function parseSettingsBody(body: unknown): { pagingChannelId: number | null } {
  return parseInput(z.strictObject({ pagingChannelId: z.number().int().positive().nullable() }), body);
}
