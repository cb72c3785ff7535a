import { z } from "zod";

import { decodeUtf8, parseJsonText } from "@/lib/api/body";
import { ApiError, apiErrorBody } from "@/lib/api/errors";
import {
  unauthenticatedRoute,
  type ApiResult,
  type RequestContext,
} from "@/lib/api/handler";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import { authenticateFeedbackRequest } from "@/lib/feedback/actor";
import type { IncidentActionResult } from "@/lib/incidents/actions";
import type { IncidentActor } from "@/lib/incidents/actor";
import { IncidentChangeError, MAX_INT4 } from "@/lib/incidents/errors";
import type { PostmortemView } from "@/lib/incidents/postmortem";
import type { IncidentSummaryRow } from "@/lib/incidents/queries";

// Shared parts of the /api/v1/incidents routes. They take the same
// credentials as the feedback route (lib/feedback/actor.ts): an API token,
// or the session cookie of a signed-in user. Changes need an admin-scope
// token or a responder or admin session, and reads take any valid token or
// signed-in user. A token bound to a service may read and change only that
// service's incidents.

export type IncidentRouteContext = RequestContext & { actor: IncidentActor };

/** Access a route needs, and for writes what it does (for the 403 to a viewer). */
export type IncidentAccess = { access: "read" } | { access: "write"; action: string };

/** Turns the feedback route's actor into an incident actor. */
async function authenticate(
  request: Request,
  access: IncidentAccess,
): Promise<IncidentActor> {
  const actor = await authenticateFeedbackRequest(
    request,
    access.access,
    access.access === "write" ? access.action : undefined,
  );
  if (actor.kind === "token") {
    return { type: "token", id: actor.id, name: actor.name, serviceId: actor.serviceId };
  }
  return { type: "user", id: actor.id, name: actor.name };
}

/**
 * Wraps an incident route: authenticates the request, runs the handler, and
 * sends an IncidentChangeError with its details (such as who changed the
 * incident first) in the error body.
 */
export function incidentRoute(
  route: string,
  access: IncidentAccess,
  handler: (context: IncidentRouteContext) => Promise<ApiResult>,
) {
  return unauthenticatedRoute(route, async (context) => {
    const actor = await authenticate(context.request, access);
    try {
      return await handler({ ...context, actor });
    } catch (error) {
      if (!(error instanceof IncidentChangeError) || Object.keys(error.details).length === 0) {
        throw error;
      }
      context.log.warn(
        {
          ...error.details,
          status: error.status,
          code: error.code,
          field: error.field,
          reason: error.message,
        },
        "rejected API request",
      );
      const body = apiErrorBody(error, context.requestId);
      return { status: error.status, body: { error: { ...body.error, ...error.details } } };
    }
  });
}

/** Parses the {id} path segment: a positive int4. Throws a 400 naming it. */
export function parseIncidentId(raw: string | undefined): number {
  const id = raw && /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(id <= MAX_INT4)) {
    throw new ApiError(
      400,
      "invalid_field",
      `incident id must be a positive integer up to ${MAX_INT4}, got ${JSON.stringify(raw ?? "")}`,
      { field: "id" },
    );
  }
  return id;
}

/** Returns the service id of a token's binding, or null when the actor may see every service. */
export function boundServiceId(actor: IncidentActor): number | null {
  return actor.type === "token" ? (actor.serviceId ?? null) : null;
}

/**
 * Checks that the incident exists (404) and that a service-bound token may
 * act on it (403). An incident never changes service, so the check holds
 * for the transaction that follows.
 */
export async function requireIncidentAccess(
  incidentId: number,
  actor: IncidentActor,
): Promise<{ id: number; serviceId: number }> {
  const { rows } = await getPool().query<{ service_id: number }>(
    "SELECT service_id FROM incident WHERE id = $1",
    [incidentId],
  );
  if (!rows[0]) throw incidentNotFound(incidentId);
  const bound = boundServiceId(actor);
  if (bound !== null && bound !== rows[0].service_id) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to another service than incident ${incidentId}`,
      { field: "id" },
    );
  }
  return { id: incidentId, serviceId: rows[0].service_id };
}

export function incidentNotFound(incidentId: number): ApiError {
  return new ApiError(404, "not_found", `incident ${incidentId} not found`, {
    field: "id",
  });
}

const STATUS_VERB: Record<string, string> = {
  triggered: "open (triggered)",
  acknowledged: "acknowledged",
  resolved: "resolved",
};

/**
 * Maps an acknowledge, resolve or reopen result to a response: 200 when
 * applied, 409 naming who set the current status and when, 404 when the
 * incident vanished.
 */
export function actionResult(
  result: IncidentActionResult,
  requestId: string,
): ApiResult {
  switch (result.outcome) {
    case "applied":
      return {
        body: {
          outcome: "applied",
          action: result.action,
          incidentId: result.incidentId,
          at: result.at.toISOString(),
          requestId,
        },
      };
    case "not_found":
      throw incidentNotFound(result.incidentId);
    case "conflict":
      throw new IncidentChangeError(409, "conflict", result.message, "id", {
        openIncidentId: result.openIncidentId,
      });
    case "unchanged": {
      const by = result.by ?? "someone";
      const when = result.at ? ` at ${result.at.toISOString()}` : "";
      const message =
        result.status === "triggered"
          ? `incident ${result.incidentId} is already open; it was last opened by ${by}${when}`
          : `incident ${result.incidentId} is already ${STATUS_VERB[result.status]}: ${by} ${result.status} it${when}`;
      throw new IncidentChangeError(409, "conflict", message, undefined, {
        status: result.status,
        by: result.by,
        at: result.at?.toISOString() ?? null,
      });
    }
  }
}

/**
 * Builds the POST route of acknowledge or resolve, which take an empty body
 * or {} and return 200 when applied or 409 naming who changed the incident
 * first.
 */
export function statusActionRoute(
  action: "acknowledge" | "resolve",
  run: (incidentId: number, actor: IncidentActor) => Promise<IncidentActionResult>,
) {
  return incidentRoute(
    `POST /api/v1/incidents/{id}/${action}`,
    { access: "write", action: `${action} incidents` },
    async (context) => {
      const incidentId = parseIncidentId(context.params.id);
      parseInput(z.strictObject({}), await readOptionalJson(context));
      await requireIncidentAccess(incidentId, context.actor);
      return actionResult(await run(incidentId, context.actor), context.requestId);
    },
  );
}

/** Reads an optional JSON body: an empty body is {}. */
export async function readOptionalJson(
  context: RequestContext,
): Promise<unknown> {
  const { bytes, encoding } = await context.readBody();
  if (encoding !== "identity") {
    throw new ApiError(
      415,
      "unsupported_encoding",
      "Content-Encoding snappy is only accepted by remote write; send JSON as identity, gzip or deflate",
      { field: "Content-Encoding" },
    );
  }
  const text = decodeUtf8(bytes, "JSON");
  return text.trim() === "" ? {} : parseJsonText(text);
}

/** JSON of an incident in the list and detail responses. */
export function serializeIncident(row: IncidentSummaryRow) {
  return {
    id: row.id,
    title: row.title,
    status: row.status,
    severity: row.severity,
    source: row.source,
    service: { slug: row.service_slug, name: row.service_name },
    seriesId: row.series_id,
    openedAt: row.opened_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
    acknowledgedBy: row.acknowledged_by,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    resolvedBy: row.resolved_by,
    assignee:
      row.assignee_id === null
        ? null
        : { id: row.assignee_id, name: row.assignee_name ?? "unknown" },
  };
}

/** JSON of a postmortem. */
export function serializePostmortem(postmortem: PostmortemView) {
  return {
    incidentId: postmortem.incidentId,
    summary: postmortem.summary,
    rootCause: postmortem.rootCause,
    impact: postmortem.impact,
    version: postmortem.version,
    createdAt: postmortem.createdAt.toISOString(),
    updatedAt: postmortem.updatedAt.toISOString(),
    updatedBy: postmortem.updatedBy,
    followUps: postmortem.followUps,
  };
}
