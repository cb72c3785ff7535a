import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateModelRequest, type ModelRequestActor } from "@/lib/models/request-auth";
import { sloCreateSchema, sloFullSchema, sloPatchSchema } from "@/lib/slo/schema";
import type { SloStatus } from "@/lib/slo/status";
import {
  SloNameTakenError,
  SloServiceNotFoundError,
  sloSettings,
  type SloBurnRecord,
  type SloInput,
  type SloRecord,
} from "@/lib/slo/store";

// Request parsing, access checks and JSON views of the /api/v1/slos routes.
// Reads take any signed-in user or API token, and a token bound to a
// service reads only that service's SLOs. Writes take an admin (lib/oncall/api.ts
// authenticateOncallAdmin).

type Queryable = Pick<pg.ClientBase, "query">;

/** Parses a POST body; throws a 400 ApiError naming the field. */
export function parseCreateBody(body: unknown): SloInput {
  return parseInput(sloCreateSchema, body);
}

/**
 * Applies a PATCH body to an SLO and checks the result as a whole, so that
 * changing kind also requires the fields of the new kind.
 */
export function parsePatchBody(body: unknown, current: SloInput): SloInput {
  const patch = parseInput(sloPatchSchema, body);
  if (Object.keys(patch).length === 0) {
    throw new ApiError(400, "invalid_field", "the body must set at least one field of the SLO", {
      field: "body",
    });
  }
  return parseInput(sloFullSchema, { ...current, ...patch });
}

/** Describes a body's service slug that no service has; a 422 because the path exists, unlike a 404. */
function unknownServiceMessage(slug: string): string {
  return (
    `service ${JSON.stringify(slug)} not found: no service has this slug. ` +
    "Services appear when Vigil receives their first metrics or deployments; GET /api/v1/services lists them"
  );
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
    throw new ApiError(422, "unknown_service", unknownServiceMessage(input.service), { field: "service" });
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
    return new ApiError(422, "unknown_service", unknownServiceMessage(error.service), { field: "service" });
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
    ...sloSettings(slo),
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
