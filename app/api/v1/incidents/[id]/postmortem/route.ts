import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import {
  incidentNotFound,
  incidentRoute,
  parseIncidentId,
  requireIncidentAccess,
  serializePostmortem,
} from "@/lib/incidents/api";
import { MAX_INT4 } from "@/lib/incidents/errors";
import {
  FOLLOW_UP_DESCRIPTION_MAX_LENGTH,
  FOLLOW_UPS_MAX,
  getPostmortem,
  POSTMORTEM_TEXT_MAX_LENGTH,
  savePostmortem,
} from "@/lib/incidents/postmortem";

// GET and PUT /api/v1/incidents/{id}/postmortem. PUT replaces the whole
// document and names the version it was edited from, or null to create it.
// A stale version gets 409 naming who saved in between.

const id = z.number().int().positive().max(MAX_INT4);
const text = z.string().max(POSTMORTEM_TEXT_MAX_LENGTH);

const bodySchema = z.strictObject({
  version: id.nullable(),
  summary: text.default(""),
  rootCause: text.default(""),
  impact: text.default(""),
  followUps: z
    .array(
      z.strictObject({
        id: id.nullish(),
        description: z.string().trim().min(1).max(FOLLOW_UP_DESCRIPTION_MAX_LENGTH),
        ownerId: id.nullable().default(null),
        dueDate: z.string().nullable().default(null),
        done: z.boolean().default(false),
      }),
    )
    .max(FOLLOW_UPS_MAX)
    .default([]),
});

export const GET = incidentRoute(
  "GET /api/v1/incidents/{id}/postmortem",
  { access: "read" },
  async ({ params, actor, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    await requireIncidentAccess(incidentId, actor);
    const postmortem = await getPostmortem(incidentId);
    return {
      body: {
        postmortem: postmortem ? serializePostmortem(postmortem) : null,
        requestId,
      },
    };
  },
);

/** 201 when created, 200 when updated or unchanged. */
export const PUT = incidentRoute(
  "PUT /api/v1/incidents/{id}/postmortem",
  { access: "write", action: "write postmortems" },
  async ({ params, actor, readJson, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    const body = parseInput(bodySchema, await readJson());
    await requireIncidentAccess(incidentId, actor);
    const result = await savePostmortem(incidentId, body, actor);
    if (result.outcome === "not_found") throw incidentNotFound(incidentId);
    return {
      status: result.outcome === "created" ? 201 : 200,
      body: {
        outcome: result.outcome,
        postmortem: serializePostmortem(result.postmortem),
        requestId,
      },
    };
  },
);
