import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { parsePositiveId } from "@/lib/models/route-params";
import { authenticateStepReader, publicStepRun, requireIncidentAccess } from "@/lib/runbooks/step-api";
import { findStepRun, listStepRunAttempts } from "@/lib/runbooks/step-runs";

/** Reads one step run with every attempt, oldest attempt first. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/incidents/{id}/runbook-steps/{runId}",
  async ({ request, params, requestId }) => {
    const reader = await authenticateStepReader(request);
    const incidentId = parsePositiveId(params.id, "id");
    const runId = parsePositiveId(params.runId, "runId");
    await requireIncidentAccess(incidentId, reader.serviceId);
    const run = await findStepRun(getPool(), runId);
    if (!run || run.incidentId !== incidentId) {
      throw new ApiError(404, "not_found", `incident ${incidentId} has no runbook step run with id ${runId}`, {
        field: "runId",
      });
    }
    const attempts = await listStepRunAttempts(getPool(), runId);
    return { body: { run: publicStepRun(run), attempts, requestId } };
  },
);
