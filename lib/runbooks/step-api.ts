import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { getPool } from "@/lib/db";
import { authenticateModelRequest, type ModelRequestActor } from "@/lib/models/request-auth";
import type { AllowedHost, AllowlistActor } from "@/lib/runbooks/allowlist";
import type { StepRun, StepRunActor } from "@/lib/runbooks/step-runs";

// Access checks and request parsing of the runbook allowlist API and the
// runbook step runs API.

/**
 * Returns the admin behind an allowlist request: an admin-scope API token
 * that is not bound to a service, or an admin's session. The allowlist
 * applies to every service, so a token bound to one service gets 403.
 */
export async function authenticateAllowlistAdmin(request: Request): Promise<AllowlistActor> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(token, "admin");
    if (token.serviceId !== null) {
      throw new ApiError(
        403,
        "forbidden",
        "the runbook allowlist applies to every service, so a token bound to one service may not change it; use an unbound admin token",
        { logContext: { tokenId: token.id } },
      );
    }
    return { type: "token", id: token.id, name: `API token ${token.name}` };
  }
  const user = await authenticateModelRequest(request, { minRole: "admin", scope: "admin" });
  return { type: "user", id: user.id, name: user.name };
}

/**
 * Returns who runs a step: a responder's or admin's session, or an API
 * token of scope admin. Ingest tokens belong to exporters and get 403.
 */
export async function authenticateStepRunner(
  request: Request,
): Promise<StepRunActor & { serviceId: number | null }> {
  const actor: ModelRequestActor = await authenticateModelRequest(request, {
    minRole: "responder",
    scope: "admin",
  });
  return { type: actor.type, id: actor.id, name: actor.name, serviceId: actor.serviceId };
}

/** Returns who reads step runs: any signed-in user or any valid API token. */
export async function authenticateStepReader(
  request: Request,
): Promise<{ serviceId: number | null }> {
  const actor = await authenticateModelRequest(request, { minRole: "viewer", scope: "ingest" });
  return { serviceId: actor.serviceId };
}

/**
 * Throws 404 when the incident does not exist, and 403 when an API token
 * bound to a service reads an incident of another service.
 */
export async function requireIncidentAccess(
  incidentId: number,
  tokenServiceId: number | null,
): Promise<void> {
  const { rows } = await getPool().query<{ service_id: number }>(
    "SELECT service_id FROM incident WHERE id = $1",
    [incidentId],
  );
  const incident = rows[0];
  if (!incident) {
    throw new ApiError(404, "not_found", `no incident with id ${incidentId}`, { field: "id" });
  }
  if (tokenServiceId !== null && incident.service_id !== tokenServiceId) {
    throw new ApiError(403, "forbidden", `this API token is bound to another service than incident ${incidentId}`, {
      field: "id",
    });
  }
}

const runStepBody = z.strictObject({
  runbookId: z.number().int().positive().max(2_147_483_647),
  stepId: z.string().min(1).max(64),
});

export type RunStepBody = z.output<typeof runStepBody>;

/** Parses the body of POST /api/v1/incidents/{id}/runbook-steps. */
export function parseRunStepBody(body: unknown): RunStepBody {
  return parseInput(runStepBody, body);
}

/** An allowlist entry as the API returns it. */
export function publicAllowedHost(entry: AllowedHost) {
  return {
    id: entry.id,
    host: entry.host,
    port: entry.port,
    note: entry.note,
    addedBy: { type: entry.actorType, id: entry.actorId, name: entry.actorName },
    createdAt: entry.createdAt.toISOString(),
  };
}

/** A step run as the API returns it. */
export function publicStepRun(run: StepRun) {
  return {
    id: run.id,
    incidentId: run.incidentId,
    runbook: { id: run.runbookId, slug: run.runbookSlug, title: run.runbookTitle, version: run.runbookVersion },
    step: { id: run.stepId, title: run.stepTitle, method: run.method, url: run.url },
    automatic: run.automatic,
    status: run.status,
    attempts: run.attempts,
    responseStatus: run.responseStatus,
    responseBody: run.responseBody,
    error: run.error,
    durationMs: run.durationMs,
    actor: { type: run.actorType, id: run.actorId, name: run.actorName },
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    nextAttemptAt: run.nextAttemptAt?.toISOString() ?? null,
  };
}
