import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { parsePositiveId } from "@/lib/models/route-params";
import {
  authenticateRunbookReader,
  authenticateRunbookResponder,
  parseFeedback,
} from "@/lib/runbooks/api";
import {
  listRunbookFeedback,
  loadSuggestion,
  recordRunbookFeedback,
} from "@/lib/runbooks/feedback";

/**
 * Marks a suggested runbook helpful or not helpful for this incident, as
 * the signed-in responder or the API token: 201 for a first mark, 200 when
 * it changed or repeated the actor's previous mark.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/incidents/{id}/runbooks/{runbookId}/feedback",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateRunbookResponder(request);
    const incidentId = parsePositiveId(params.id, "id");
    const runbookId = parsePositiveId(params.runbookId, "runbookId");
    const { helpful } = parseFeedback(await readJson());
    const result = await withTransaction(getPool(), (client) =>
      recordRunbookFeedback(client, { incidentId, runbookId, helpful, actor }),
    );
    log.info(
      { incidentId, runbookId, helpful, outcome: result.outcome, actor: actor.name },
      "runbook feedback recorded",
    );
    return {
      status: result.outcome === "recorded" ? 201 : 200,
      body: { outcome: result.outcome, feedback: result.mark, requestId },
    };
  },
);

/** Returns every mark on this suggested runbook of the incident, oldest first. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/incidents/{id}/runbooks/{runbookId}/feedback",
  async ({ request, params, requestId }) => {
    const actor = await authenticateRunbookReader(request);
    const incidentId = parsePositiveId(params.id, "id");
    const runbookId = parsePositiveId(params.runbookId, "runbookId");
    const pool = getPool();
    await loadSuggestion(pool, incidentId, runbookId, actor);
    const marks = (await listRunbookFeedback(pool, incidentId)).filter(
      (mark) => mark.runbookId === runbookId,
    );
    return {
      body: {
        helpful: marks.filter((mark) => mark.helpful).length,
        notHelpful: marks.filter((mark) => !mark.helpful).length,
        feedback: marks,
        requestId,
      },
    };
  },
);
