import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import {
  incidentNotFound,
  incidentRoute,
  parseIncidentId,
  requireIncidentAccess,
  serializeIncident,
} from "@/lib/incidents/api";
import { SEVERITIES, updateIncidentFields } from "@/lib/incidents/assign";
import {
  loadIncidentCorrelation,
  serializeCorrelation,
} from "@/lib/incidents/correlation";
import { MAX_INT4 } from "@/lib/incidents/errors";
import { getPostmortem } from "@/lib/incidents/postmortem";
import {
  getIncidentSummary,
  listIncidentEvents,
} from "@/lib/incidents/queries";
import { computeIncidentTimings } from "@/lib/incidents/timings";

// GET and PATCH /api/v1/incidents/{id}: one incident with its timeline, and
// changes to its severity and assignee.

async function loadDetail(incidentId: number) {
  const [incident, events, postmortem] = await Promise.all([
    getIncidentSummary(incidentId),
    listIncidentEvents(incidentId),
    getPostmortem(incidentId),
  ]);
  if (!incident) throw incidentNotFound(incidentId);
  const timings = computeIncidentTimings(
    {
      status: incident.status,
      openedAt: incident.opened_at,
      resolvedAt: incident.resolved_at,
    },
    events.map((event) => ({
      kind: event.kind,
      createdAt: event.created_at,
      actorName: event.actor_name,
    })),
  );
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  return {
    ...serializeIncident(incident),
    summary: incident.summary,
    timings: {
      timeToAcknowledgeSeconds: seconds(timings.timeToAcknowledgeMs),
      timeToResolveSeconds: seconds(timings.timeToResolveMs),
      reopenCount: timings.reopenCount,
    },
    ...serializeCorrelation(await loadIncidentCorrelation(incidentId)),
    postmortem: postmortem
      ? {
          version: postmortem.version,
          updatedAt: postmortem.updatedAt.toISOString(),
          updatedBy: postmortem.updatedBy.name,
        }
      : null,
    timeline: events.map((event) => ({
      id: event.id,
      kind: event.kind,
      actor: {
        type: event.actor_type,
        id: event.actor_id,
        name: event.actor_name,
      },
      message: event.message,
      data: event.data,
      createdAt: event.created_at.toISOString(),
    })),
  };
}

export const GET = incidentRoute(
  "GET /api/v1/incidents/{id}",
  { access: "read" },
  async ({ params, actor, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    await requireIncidentAccess(incidentId, actor);
    return { body: { incident: await loadDetail(incidentId), requestId } };
  },
);

const patchSchema = z
  .strictObject({
    severity: z.enum(SEVERITIES as [string, ...string[]]).optional(),
    assigneeId: z.number().int().positive().max(MAX_INT4).nullable().optional(),
  })
  .refine(
    (body) => body.severity !== undefined || body.assigneeId !== undefined,
    "must set severity, assigneeId or both",
  );

/**
 * Sets severity and assignee: 200 with the incident and the changes made,
 * an empty list of changes when every value was already set.
 */
export const PATCH = incidentRoute(
  "PATCH /api/v1/incidents/{id}",
  { access: "write", action: "change incidents" },
  async ({ params, actor, readJson, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    const body = parseInput(patchSchema, await readJson());
    await requireIncidentAccess(incidentId, actor);
    const result = await updateIncidentFields(
      incidentId,
      {
        severity: body.severity as (typeof SEVERITIES)[number] | undefined,
        assigneeId: body.assigneeId,
      },
      actor,
    );
    if (result.outcome === "not_found") throw incidentNotFound(incidentId);
    return {
      body: {
        outcome: result.outcome,
        changes: result.changes,
        incident: await loadDetail(incidentId),
        requestId,
      },
    };
  },
);
