import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import { authenticateFeedbackRequest } from "@/lib/feedback/actor";
import { getIncidentFeedbackView } from "@/lib/feedback/queries";
import {
  FEEDBACK_VERDICTS,
  loadTargetIncident,
  MAX_COMMENT_LENGTH,
  MAX_INCIDENT_ID,
  recordFeedback,
} from "@/lib/feedback/record";

// Feedback on a detector incident. Authentication (an admin-scope API token
// or a responder's session) is in lib/feedback/actor.ts, the effect on the
// series' alarm threshold in lib/feedback/record.ts.

const bodySchema = z.strictObject({
  verdict: z.enum(FEEDBACK_VERDICTS),
  // Trimmed before the length check, as recordFeedback stores it.
  comment: z.string().trim().max(MAX_COMMENT_LENGTH).nullish(),
});

function parseIncidentId(raw: string | undefined): number {
  const id = raw && /^[1-9][0-9]{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(id <= MAX_INCIDENT_ID)) {
    throw new ApiError(
      400,
      "invalid_field",
      `incident id must be a positive integer up to ${MAX_INCIDENT_ID}, got ${JSON.stringify(raw ?? "")}`,
      { field: "id" },
    );
  }
  return id;
}

/**
 * Records a verdict: 201 with the new feedback, or 200 when the newest
 * verdict already had the same verdict and comment and nothing changed.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/incidents/{id}/feedback",
  async ({ request, params, readJson, requestId }) => {
    const actor = await authenticateFeedbackRequest(request);
    const incidentId = parseIncidentId(params.id);
    const body = parseInput(bodySchema, await readJson());

    const result = await recordFeedback({
      incidentId,
      verdict: body.verdict,
      comment: body.comment ?? null,
      actor,
    });
    return {
      status: result.outcome === "recorded" ? 201 : 200,
      body: {
        outcome: result.outcome,
        feedback: result.feedback,
        previousVerdict: result.previousVerdict,
        alarmThreshold: result.alarmThreshold,
        requestId,
      },
    };
  },
);

/**
 * Returns every verdict on a detector incident (newest first), the alarm
 * threshold of its series, its likelihoods and the precision of its series
 * and onset model version. Any valid token or signed-in user may read it.
 */
export const GET = unauthenticatedRoute(
  "GET /api/v1/incidents/{id}/feedback",
  async ({ request, params, requestId }) => {
    const actor = await authenticateFeedbackRequest(request, "read");
    const incidentId = parseIncidentId(params.id);
    const incident = await loadTargetIncident(getPool(), incidentId, actor);

    const view = await getIncidentFeedbackView({
      id: incident.id,
      seriesId: incident.series_id,
      openedAt: incident.opened_at,
      resolvedAt: incident.resolved_at,
    });
    return {
      body: {
        incidentId,
        seriesId: incident.series_id,
        verdict: view.history[0]?.verdict ?? null,
        history: view.history,
        alarmThreshold: {
          value: view.alarmThreshold,
          fromFeedback: view.thresholdFromFeedback,
        },
        likelihood: { onset: view.onset, peak: view.peak },
        precision: {
          series: view.seriesPrecision,
          modelVersion: view.modelPrecision,
        },
        requestId,
      },
    };
  },
);
