import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { MAX_INT4 } from "@/lib/incidents/errors";
import { parsePositiveId } from "@/lib/models/route-params";
import { authenticateModelRequest } from "@/lib/models/request-auth";
import type { PolicyInput } from "@/lib/oncall/policies";
import { isValidTimeZone, ROTATION_UNITS } from "@/lib/oncall/rotation";
import type { Actor, OverrideInput, ScheduleInput } from "@/lib/oncall/schedules";
import { labelMatcherSchema, matchesLabel } from "@/lib/oncall/suppression";
import type { SilenceInput, WindowInput } from "@/lib/oncall/windows";

// Access checks and request parsing of the on-call API: schedules,
// overrides, escalation policies, maintenance windows and silences.

/** Parses a path id such as "12"; throws a 400 naming `field` otherwise. */
export const parseId = parsePositiveId;

/**
 * Returns the admin-scope API token behind a request's Authorization
 * header. Throws a 401 or 403 ApiError for any other token, and a 403 for
 * a token bound to a service, because on-call data spans services.
 */
async function authenticateUnboundAdminToken(request: Request): Promise<Actor> {
  const token = await authenticateBearer(request);
  requireScope(token, "admin");
  if (token.serviceId !== null) {
    throw new ApiError(
      403,
      "forbidden",
      "on-call data spans services and names people, so a token bound to one service may not use it; use an unbound admin token",
      { logContext: { tokenId: token.id } },
    );
  }
  return { id: token.id, name: `API token ${token.name}`, type: "token" };
}

/**
 * Returns the reader behind a request: any signed-in user's session, or an
 * admin-scope API token that is not bound to a service. Schedules name
 * people with their email addresses and policies span services, so ingest
 * tokens and bound tokens get 403.
 */
export async function authenticateOncallReader(request: Request): Promise<Actor> {
  if (request.headers.has("authorization")) return authenticateUnboundAdminToken(request);
  const actor = await authenticateModelRequest(request, { minRole: "viewer", scope: "admin" });
  return { id: actor.id, name: actor.name, type: actor.type };
}

/**
 * Returns the admin behind a request: an admin-scope API token that is not
 * bound to a service, or an admin's session. On-call settings span
 * services, so a token bound to one service gets 403.
 */
export async function authenticateOncallAdmin(request: Request): Promise<Actor> {
  if (request.headers.has("authorization")) return authenticateUnboundAdminToken(request);
  const actor = await authenticateModelRequest(request, { minRole: "admin", scope: "admin" });
  return { id: actor.id, name: actor.name, type: actor.type };
}

/**
 * Adds an issue when text contains what PostgreSQL cannot store: the NUL
 * character in a text column, or an unpaired UTF-16 surrogate, which would
 * turn into U+FFFD or fail in jsonb.
 */
function checkStorableText(text: string, context: z.RefinementCtx, path: PropertyKey[] = []): void {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    context.addIssue({
      code: "custom",
      path,
      message: `must not contain the NUL character (U+0000); found at position ${nul}`,
    });
  }
  // With the u flag a surrogate pair is one code point, so this class
  // matches only unpaired surrogates.
  const surrogate = /[\uD800-\uDFFF]/u.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    context.addIssue({
      code: "custom",
      path,
      message: `must not contain an unpaired UTF-16 surrogate (U+${code}); found at position ${surrogate.index}, so send valid Unicode`,
    });
  }
}

/** A trimmed string of `min` to `max` characters that PostgreSQL can store. */
function text(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine((value, context) => checkStorableText(value, context));
}

/** A row id: PostgreSQL integer columns stop at MAX_INT4. */
const rowId = z.number().int().positive().max(MAX_INT4);

const name = text(1, 100);
const reason = text(1, 200);
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
    members: z.array(rowId).min(1).max(50),
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
  description: text(0, 1000).nullable().default(null),
  timeZone,
  layers: z.array(layerBody).min(1).max(10),
});

const scheduleUpdateBody = z.strictObject({
  name: name.optional(),
  description: text(0, 1000).nullable().optional(),
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
      userId: rowId,
      startsAt: instant,
      endsAt: instant,
      reason: text(0, 200).nullable().default(null),
    })
    .superRefine((value, context) => checkPeriod(value, now, context));
  return parseInput(schema, body);
}

const targetBody = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("schedule"), scheduleId: rowId }),
  z.strictObject({ type: z.literal("user"), userId: rowId }),
  z.strictObject({ type: z.literal("channel"), channelId: rowId }),
], { error: "must be schedule, user or channel" });

const policyBody = z.strictObject({
  name,
  service: serviceSlug,
  repeatCount: z.number().int().min(0).max(10).default(0),
  pageChannelId: rowId.nullable().default(null),
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

/**
 * Adds issues for matchers that PostgreSQL cannot store, and for a set of
 * matchers that all match the empty string. A missing label counts as the
 * empty string, so such a silence would mute alerts that have none of its
 * labels. Alertmanager rejects these silences for the same reason.
 */
function checkMatchers(matchers: SilenceInput["matchers"], context: z.RefinementCtx): void {
  // Matchers that failed their own checks reach here too, unconverted.
  if (!Array.isArray(matchers) || matchers.length === 0) return;
  if (!matchers.every((matcher) => typeof matcher?.value === "string")) return;
  for (const [index, matcher] of matchers.entries()) {
    checkStorableText(matcher.value, context, ["matchers", index, "value"]);
  }
  let allMatchEmpty = true;
  for (const matcher of matchers) {
    try {
      if (!matchesLabel(matcher, {})) allMatchEmpty = false;
    } catch {
      // An invalid regular expression, which labelMatcherSchema reports.
      return;
    }
  }
  if (allMatchEmpty) {
    context.addIssue({
      code: "custom",
      path: ["matchers"],
      message:
        "must contain a matcher that does not match the empty string, such as alertname=\"DiskFull\", " +
        "because a missing label counts as empty and these matchers would mute alerts without those labels; " +
        "to silence a whole service, send its service with no matchers",
    });
  }
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
      checkMatchers(value.matchers, context);
      checkPeriod(value, now, context);
    });
  return parseInput(schema, body);
}

/** Parses the body of PUT /api/v1/oncall/settings. */
export function parseSettingsBody(body: unknown): { pagingChannelId: number | null } {
  return parseInput(z.strictObject({ pagingChannelId: rowId.nullable() }), body);
}
