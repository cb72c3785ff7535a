import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import { resolveIncident } from "@/lib/incidents/actions";
import {
  actionResult,
  incidentRoute,
  parseIncidentId,
  readOptionalJson,
  requireIncidentAccess,
} from "@/lib/incidents/api";

/**
 * POST /api/v1/incidents/{id}/resolve, with an empty body or {}: moves a triggered or acknowledged incident to resolved.
 * 200 when applied, 409 naming who changed the incident first and when.
 */
export const POST = incidentRoute(
  "POST /api/v1/incidents/{id}/resolve",
  { access: "write", action: "resolve incidents" },
  async (context) => {
    const incidentId = parseIncidentId(context.params.id);
    parseInput(z.strictObject({}), await readOptionalJson(context));
    await requireIncidentAccess(incidentId, context.actor);
    const result = await resolveIncident(incidentId, context.actor);
    return actionResult(result, context.requestId);
  },
);
