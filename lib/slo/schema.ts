import { z } from "zod";

import { SLO_DEFAULTS, SLO_MAX_WINDOW_DAYS } from "@/lib/slo/definitions";
import type { SloInput } from "@/lib/slo/store";

// Bounds and zod schemas of an SLO's fields. The API and the SLO form both
// parse with these schemas, so the form rejects the same values as the
// server. This module must stay free of server-only imports.

export const SLO_TARGET_MIN = 0.5;
export const SLO_TARGET_MAX = 0.99999;
export const SLO_BURN_RATE_MIN = 1;
export const SLO_BURN_RATE_MAX = 1000;

const serviceSlug = z
  .string()
  .regex(/^[a-z0-9-]{1,63}$/, { message: "must be a service slug (1 to 63 characters of a-z, 0-9 and -)" });

/**
 * Adds an issue when text contains a C0 or C1 control character or DEL,
 * or an unpaired UTF-16 surrogate, which PostgreSQL would store as U+FFFD.
 */
function checkPlainText(value: string, context: z.RefinementCtx): void {
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    context.addIssue({
      code: "custom",
      message: `must not contain control characters, but contains U+${code} at position ${control.index}`,
    });
  }
  // With the u flag a surrogate pair is one code point, so this class
  // matches only unpaired surrogates.
  const surrogate = /[\uD800-\uDFFF]/u.exec(value);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    context.addIssue({
      code: "custom",
      message: `must not contain an unpaired UTF-16 surrogate, but contains U+${code} at position ${surrogate.index}, so send valid Unicode`,
    });
  }
}

function plainText(max: number) {
  return z.string().trim().min(1).max(max).superRefine(checkPlainText);
}

const minutes = z.number().int().min(1).max(SLO_MAX_WINDOW_DAYS * 1440);

const burnRate = z
  .number()
  .min(SLO_BURN_RATE_MIN, {
    message: `must be a burn rate from ${SLO_BURN_RATE_MIN} to ${SLO_BURN_RATE_MAX}, such as 14.4, because below 1 the alert would fire while the budget lasts the whole window`,
  })
  .max(SLO_BURN_RATE_MAX, {
    message: `must be a burn rate from ${SLO_BURN_RATE_MIN} to ${SLO_BURN_RATE_MAX}, such as 14.4`,
  });

const TARGET_MESSAGE = `must be a share from ${SLO_TARGET_MIN} to ${SLO_TARGET_MAX}, such as 0.999 for 99.9 %`;

const sloFields = {
  service: serviceSlug,
  name: plainText(100),
  kind: z.enum(["availability", "latency"]),
  availabilitySource: z.enum(["requests", "incidents"]).nullable(),
  latencyMetric: plainText(200).nullable(),
  latencyThreshold: z.number().nullable(),
  target: z.number().min(SLO_TARGET_MIN, { message: TARGET_MESSAGE }).max(SLO_TARGET_MAX, { message: TARGET_MESSAGE }),
  windowDays: z.number().int().min(1).max(SLO_MAX_WINDOW_DAYS),
  fastBurnRate: burnRate,
  fastLongMinutes: minutes,
  fastShortMinutes: minutes,
  slowBurnRate: burnRate,
  slowLongMinutes: minutes,
  slowShortMinutes: minutes,
};

/** Adds the issues that span fields: kind-specific fields, burn rates against the target, and window lengths. */
function checkCombination(slo: SloInput, context: z.RefinementCtx): void {
  const issue = (path: string, message: string) =>
    context.addIssue({ code: "custom", path: [path], message });
  if (slo.kind === "availability") {
    if (slo.availabilitySource === null) {
      issue("availabilitySource", 'is required for an availability SLO: "requests" or "incidents"');
    }
    if (slo.latencyMetric !== null) issue("latencyMetric", "must be null for an availability SLO");
    if (slo.latencyThreshold !== null) issue("latencyThreshold", "must be null for an availability SLO");
  } else {
    if (slo.availabilitySource !== null) issue("availabilitySource", "must be null for a latency SLO");
    if (slo.latencyMetric === null) issue("latencyMetric", "is required for a latency SLO");
    if (slo.latencyThreshold === null) issue("latencyThreshold", "is required for a latency SLO");
  }
  // When every unit is bad the burn rate is 1 / (1 - target), so an alert
  // threshold at or above that value can never fire. Rounding to 12 digits
  // makes 1 / (1 - 0.9) equal 10, not 10.000000000000002.
  const maxBurnRate = Number((1 / (1 - slo.target)).toPrecision(12));
  for (const field of ["fastBurnRate", "slowBurnRate"] as const) {
    if (slo[field] >= maxBurnRate) {
      issue(
        field,
        `must be below ${Number(maxBurnRate.toFixed(4))}, the burn rate when every unit fails at target ${slo.target}, ` +
          "or the alert can never fire; lower it or raise the target",
      );
    }
  }
  if (slo.fastShortMinutes >= slo.fastLongMinutes) {
    issue("fastShortMinutes", `must be shorter than fastLongMinutes (${slo.fastLongMinutes})`);
  }
  if (slo.slowShortMinutes >= slo.slowLongMinutes) {
    issue("slowShortMinutes", `must be shorter than slowLongMinutes (${slo.slowLongMinutes})`);
  }
  const windowMinutes = slo.windowDays * 1440;
  for (const field of ["fastLongMinutes", "slowLongMinutes"] as const) {
    if (slo[field] > windowMinutes) {
      issue(field, `must be at most the window, ${windowMinutes} minutes (windowDays ${slo.windowDays})`);
    }
  }
}

/** Schema of a POST body: the burn-rate settings default to SLO_DEFAULTS. */
export const sloCreateSchema = z
  .strictObject({
    ...sloFields,
    availabilitySource: sloFields.availabilitySource.default(null),
    latencyMetric: sloFields.latencyMetric.default(null),
    latencyThreshold: sloFields.latencyThreshold.default(null),
    fastBurnRate: burnRate.default(SLO_DEFAULTS.fastBurnRate),
    fastLongMinutes: minutes.default(SLO_DEFAULTS.fastLongMinutes),
    fastShortMinutes: minutes.default(SLO_DEFAULTS.fastShortMinutes),
    slowBurnRate: burnRate.default(SLO_DEFAULTS.slowBurnRate),
    slowLongMinutes: minutes.default(SLO_DEFAULTS.slowLongMinutes),
    slowShortMinutes: minutes.default(SLO_DEFAULTS.slowShortMinutes),
  })
  .superRefine(checkCombination);

/** Schema of a PATCH body, before it is merged into the stored SLO. */
export const sloPatchSchema = z.strictObject(sloFields).partial();

/** Schema of a whole SLO, such as a PATCH body merged into the stored SLO. */
export const sloFullSchema = z.strictObject(sloFields).superRefine(checkCombination);
