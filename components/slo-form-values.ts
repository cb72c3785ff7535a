// Values of the SLO form and the API body built from them. This module has
// no "use client", so that server components can read EMPTY_SLO_FORM: a
// constant imported from a client module reaches the server as a reference.

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { sloCreateSchema } from "@/lib/slo/schema";

/** Form fields as typed; numbers stay text until the request is built. */
export type SloFormValues = {
  service: string;
  name: string;
  kind: "availability" | "latency";
  availabilitySource: "requests" | "incidents";
  latencyMetric: string;
  latencyThreshold: string;
  targetPercent: string;
  windowDays: string;
  fastBurnRate: string;
  fastLongMinutes: string;
  fastShortMinutes: string;
  slowBurnRate: string;
  slowLongMinutes: string;
  slowShortMinutes: string;
};

export const EMPTY_SLO_FORM: Omit<SloFormValues, "service"> = {
  name: "",
  kind: "availability",
  availabilitySource: "requests",
  latencyMetric: "",
  latencyThreshold: "",
  targetPercent: "99.9",
  windowDays: "30",
  fastBurnRate: "14.4",
  fastLongMinutes: "60",
  fastShortMinutes: "5",
  slowBurnRate: "6",
  slowLongMinutes: "360",
  slowShortMinutes: "30",
};

/** Parses a typed number; text that is not a number is sent as is, so the API names the field. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === "") return trimmed;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** Builds the API body; the target is typed in percent and sent as a share. */
export function sloRequestBody(values: SloFormValues): Record<string, unknown> {
  const percent = numberOrText(values.targetPercent);
  const latency = values.kind === "latency";
  return {
    service: values.service,
    name: values.name,
    kind: values.kind,
    availabilitySource: latency ? null : values.availabilitySource,
    latencyMetric: latency ? values.latencyMetric : null,
    latencyThreshold: latency ? numberOrText(values.latencyThreshold) : null,
    target: typeof percent === "number" ? Number((percent / 100).toFixed(10)) : percent,
    windowDays: numberOrText(values.windowDays),
    fastBurnRate: numberOrText(values.fastBurnRate),
    fastLongMinutes: numberOrText(values.fastLongMinutes),
    fastShortMinutes: numberOrText(values.fastShortMinutes),
    slowBurnRate: numberOrText(values.slowBurnRate),
    slowLongMinutes: numberOrText(values.slowLongMinutes),
    slowShortMinutes: numberOrText(values.slowShortMinutes),
  };
}

/**
 * Checks a request body with the schema the API parses it with, and returns
 * the API's message for the first invalid field, or null when the body is valid.
 */
export function findSloBodyError(body: Record<string, unknown>): string | null {
  try {
    parseInput(sloCreateSchema, body);
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
}
