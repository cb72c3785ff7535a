import { z } from "zod";

import { parseInput } from "@/lib/api/validation";
import { REOPEN_REASON_MAX_LENGTH, reopenIncident } from "@/lib/incidents/actions";
import {
  actionResult,
  incidentRoute,
  parseIncidentId,
  requireIncidentAccess,
} from "@/lib/incidents/api";

const bodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(REOPEN_REASON_MAX_LENGTH),
});

/**
 * POST /api/v1/incidents/{id}/reopen with {"reason": "..."}: moves a
 * resolved incident back to triggered. 409 when it is open already, naming
 * who last opened or acknowledged it, or when its series or alert has
 * another open incident.
 */
export const POST = incidentRoute(
  "POST /api/v1/incidents/{id}/reopen",
  { access: "write", action: "reopen incidents" },
  async ({ params, actor, readJson, requestId }) => {
    const incidentId = parseIncidentId(params.id);
    const body = parseInput(bodySchema, await readJson());
    await requireIncidentAccess(incidentId, actor);
    const result = await reopenIncident(incidentId, actor, body.reason);
    return actionResult(result, requestId);
  },
);
