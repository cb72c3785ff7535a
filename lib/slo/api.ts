import type pg from "pg";
import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateModelRequest, type ModelRequestActor } from "@/lib/models/request-auth";
import { SLO_DEFAULTS, SLO_MAX_WINDOW_DAYS } from "@/lib/slo/definitions";
import type { SloStatus } from "@/lib/slo/status";
import {
  SloNameTakenError,
  SloServiceNotFoundError,
  type SloBurnRecord,
  type SloInput,
  type SloRecord,
} from "@/lib/slo/store";

// Request parsing, access checks and JSON views of the /api/v1/slos routes.
// Reads take any signed-in user or API token, and a token bound to a
// service reads only that service's SLOs. Writes take an admin (lib/oncall/api.ts
// authenticateOncallAdmin).

type Queryable = Pick<pg.ClientBase, "query">;

const MAX_BURN_RATE = 10_000;

const serviceSlug = z
  .string()
  .regex(/^[a-z0-9-]{1,63}$/, { message: "must be a service slug (1 to 63 characters of a-z, 0-9 and -)" });

const name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((value) => !/[\u0000-\u001f]/.test(value), {
    message: "must not contain control characters",
  });

const metricName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !/[\u0000-\u001f]/.test(value), {
    message: "must not contain control characters",
  });

const minutes = z.number().int().min(1).max(SLO_MAX_WINDOW_DAYS * 1440);
const burnRate = z
  .number()
  .gt(0, { message: "must be a burn rate above 0, such as 14.4" })
  .max(MAX_BURN_RATE);

const sloFields = {
  service: serviceSlug,
  name,
  kind: z.enum(["availability", "latency"]),
  availabilitySource: z.enum(["requests", "incidents"]).nullable(),
  latencyMetric: metricName.nullable(),
  latencyThreshold: z.number().nullable(),
  target: z
    .number()
    .gt(0, { message: "must be a share between 0 and 1, such as 0.999 for 99.9 %" })
    .lt(1, { message: "must be a share between 0 and 1, such as 0.999 for 99.9 %" }),
  windowDays: z.number().int().min(1).max(SLO_MAX_WINDOW_DAYS),
  fastBurnRate: burnRate,
  fastLongMinutes: minutes,
  fastShortMinutes: minutes,
  slowBurnRate: burnRate,
  slowLongMinutes: minutes,
  slowShortMinutes: minutes,
};

/** Adds the issues that span fields: kind-specific fields and window lengths. */
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

const createBody = z
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

const patchBody = z.strictObject(sloFields).partial();

const fullBody = z.strictObject(sloFields).superRefine(checkCombination);

/** Parses a POST body; throws a 400 ApiError naming the field. */
export function parseCreateBody(body: unknown): SloInput {
  return parseInput(createBody, body);
}

/**
 * Applies a PATCH body to an SLO and checks the result as a whole, so that
 * changing kind also requires the fields of the new kind.
 */
export function parsePatchBody(body: unknown, current: SloInput): SloInput {
  const patch = parseInput(patchBody, body);
  if (Object.keys(patch).length === 0) {
    throw new ApiError(400, "invalid_field", "the body must set at least one field of the SLO", {
      field: "body",
    });
  }
  return parseInput(fullBody, { ...current, ...patch });
}

/**
 * Checks what the schema cannot: that the service exists and, for an
 * availability SLO from requests, names both counters. Throws a 422.
 */
export async function checkServiceFits(db: Queryable, input: SloInput): Promise<void> {
  const { rows } = await db.query<{ request_metric: string | null; error_metric: string | null }>(
    "SELECT request_metric, error_metric FROM service WHERE slug = $1",
    [input.service],
  );
  const service = rows[0];
  if (!service) {
    throw new ApiError(422, "unknown_service", `no service with slug ${JSON.stringify(input.service)}`, {
      field: "service",
    });
  }
  if (
    input.kind === "availability" &&
    input.availabilitySource === "requests" &&
    (service.request_metric === null || service.error_metric === null)
  ) {
    throw new ApiError(
      422,
      "missing_metrics",
      `service ${input.service} names no request metric and error metric, which an availability SLO from requests divides; ` +
        `set them with PUT /api/v1/services/${input.service} or use availabilitySource "incidents"`,
      { field: "availabilitySource" },
    );
  }
}

/** Maps the store's errors to API errors; others pass through. */
export function toApiError(error: unknown): unknown {
  if (error instanceof SloNameTakenError) {
    return new ApiError(409, "conflict", error.message, { field: "name" });
  }
  if (error instanceof SloServiceNotFoundError) {
    return new ApiError(422, "unknown_service", error.message, { field: "service" });
  }
  return error;
}

/** Returns the reader of an SLO route: any signed-in user or any API token. */
export function authenticateSloReader(request: Request): Promise<ModelRequestActor> {
  return authenticateModelRequest(request, { minRole: "viewer", scope: "ingest" });
}

/** Parses a path id; throws a 400 naming `id`. */
export function parseSloId(raw: string | undefined): number {
  if (raw === undefined || !/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw new ApiError(400, "invalid_field", `id must be a positive integer, got ${JSON.stringify(raw)}`, {
      field: "id",
    });
  }
  return Number(raw);
}

export function sloNotFound(id: number): ApiError {
  return new ApiError(404, "not_found", `no SLO with id ${id}`, { field: "id" });
}

/** Rejects a token bound to another service than the SLO's with 404, as if it did not exist. */
export function requireSloAccess(actor: ModelRequestActor, slo: SloRecord | null, id: number): SloRecord {
  if (!slo || (actor.serviceId !== null && actor.serviceId !== slo.serviceId)) throw sloNotFound(id);
  return slo;
}

/** Returns the JSON form of an SLO with its status and recent burns. */
export function sloView(slo: SloRecord, status: SloStatus | null, burns: SloBurnRecord[] = []) {
  return {
    id: slo.id,
    service: { id: slo.serviceId, slug: slo.serviceSlug, name: slo.serviceName },
    name: slo.name,
    kind: slo.kind,
    availabilitySource: slo.availabilitySource,
    latencyMetric: slo.latencyMetric,
    latencyThreshold: slo.latencyThreshold,
    target: slo.target,
    windowDays: slo.windowDays,
    fastBurnRate: slo.fastBurnRate,
    fastLongMinutes: slo.fastLongMinutes,
    fastShortMinutes: slo.fastShortMinutes,
    slowBurnRate: slo.slowBurnRate,
    slowLongMinutes: slo.slowLongMinutes,
    slowShortMinutes: slo.slowShortMinutes,
    burningSince: slo.burningSince?.toISOString() ?? null,
    lastEvaluatedAt: slo.lastEvaluatedAt?.toISOString() ?? null,
    createdAt: slo.createdAt.toISOString(),
    updatedAt: slo.updatedAt.toISOString(),
    status: status && {
      at: status.at.toISOString(),
      state: status.state,
      unit: status.unit,
      attainment: status.attainment,
      total: status.total,
      bad: status.bad,
      budget: status.budget,
      budgetRemaining: status.budgetRemaining,
      budgetRemainingFraction: status.budgetRemainingFraction,
      fast: status.fast,
      slow: status.slow,
    },
    burns: burns.map((burn) => ({
      seq: burn.seq,
      incidentId: burn.incidentId,
      incidentStatus: burn.incidentStatus,
      startedAt: burn.startedAt.toISOString(),
      endedAt: burn.endedAt?.toISOString() ?? null,
    })),
  };
}
