import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { parsePositiveId } from "@/lib/models/route-params";
import {
  authenticateStepReader,
  authenticateStepRunner,
  parseRunStepBody,
  publicStepRun,
  requireIncidentAccess,
} from "@/lib/runbooks/step-api";
import {
  listIncidentRunbookSteps,
  listStepRuns,
  requestStepRun,
} from "@/lib/runbooks/step-runs";

/**
 * Lists the steps of the incident's suggested runbooks and every run of a
 * step on it, newest first. Any signed-in user or valid API token may read.
 */
export const GET = unauthenticatedRoute(
  "GET /api/v1/incidents/{id}/runbook-steps",
  async ({ request, params, requestId }) => {
    const reader = await authenticateStepReader(request);
    const incidentId = parsePositiveId(params.id, "id");
    await requireIncidentAccess(incidentId, reader.serviceId);
    const runbooks = await listIncidentRunbookSteps(getPool(), incidentId);
    const runs = await listStepRuns(getPool(), incidentId);
    return {
      body: {
        incidentId,
        runbooks: runbooks.map((runbook) => ({
          id: runbook.runbookId,
          slug: runbook.slug,
          title: runbook.title,
          version: runbook.version,
          automatic: runbook.automatic,
          stepsError: runbook.stepsError,
          steps: runbook.steps.map((step) => ({
            id: step.id,
            title: step.title,
            method: step.method,
            url: step.url,
            timeoutSeconds: step.timeoutSeconds,
            retries: step.retries,
          })),
        })),
        runs: runs.map(publicStepRun),
        requestId,
      },
    };
  },
);

/**
 * Queues a run of one step of one of the incident's suggested runbooks and
 * returns 202 with the run; the worker sends the request. A responder's
 * session or an admin-scope API token may run steps.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/incidents/{id}/runbook-steps",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateStepRunner(request);
    const incidentId = parsePositiveId(params.id, "id");
    const body = parseRunStepBody(await readJson());
    const client = await getPool().connect();
    let run;
    try {
      run = await requestStepRun(client, {
        incidentId,
        runbookId: body.runbookId,
        stepId: body.stepId,
        actor: { type: actor.type, id: actor.id, name: actor.name },
        serviceId: actor.serviceId,
      });
    } finally {
      client.release();
    }
    log.info(
      { runId: run.id, incidentId, runbookId: body.runbookId, stepId: body.stepId, actor: actor.name },
      "runbook step run queued",
    );
    return { status: 202, body: { run: publicStepRun(run), requestId } };
  },
);
