import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import { acknowledgeIncident } from "@/lib/incidents/actions";
import {
  actionResult,
  incidentRoute,
  parseIncidentId,
  readOptionalJson,
  requireIncidentAccess,
} from "@/lib/incidents/api";

/**
 * POST /api/v1/incidents/{id}/acknowledge, with an empty body or {}: moves a triggered incident to acknowledged.
 * 200 when applied, 409 naming who changed the incident first and when.
 */
export const POST = incidentRoute(
  "POST /api/v1/incidents/{id}/acknowledge",
  { access: "write", action: "acknowledge incidents" },
  async (context) => {
    const incidentId = parseIncidentId(context.params.id);
    parseInput(z.strictObject({}), await readOptionalJson(context));
    await requireIncidentAccess(incidentId, context.actor);
    const result = await acknowledgeIncident(incidentId, context.actor);
    return actionResult(result, context.requestId);
  },
);
