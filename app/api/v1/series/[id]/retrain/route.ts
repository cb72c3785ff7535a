import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import { planHoldout } from "@/lib/models/holdout-plan";
import {
  authenticateModelRequest,
  requireSeriesAccess,
} from "@/lib/models/request-auth";
import { parsePositiveId, requireEmptyBody } from "@/lib/models/route-params";
import { requestTraining } from "@/lib/models/training-jobs";

/**
 * Queues a retraining of a series' model (responder or admin session, or
 * an admin-scope token): 202 with the new training job, or 200 with the
 * job already queued or running for the series.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/series/{id}/retrain",
  async ({ request, params, readBody, log, requestId }) => {
    const actor = await authenticateModelRequest(request, {
      minRole: "responder",
      scope: "admin",
    });
    const seriesId = parsePositiveId(params.id, "id");
    await requireSeriesAccess(actor, seriesId);
    const body = await readBody();
    requireEmptyBody(body.bytes);

    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      // Locks the series row, so that a concurrent delete cannot remove
      // the series between the check and the insert.
      const { rows } = await client.query<{ points: number }>(
        `SELECT (SELECT count(*)::int FROM data_point WHERE series_id = s.id) AS points
           FROM metric_series s WHERE s.id = $1 FOR KEY SHARE`,
        [seriesId],
      );
      if (!rows[0]) {
        throw new ApiError(404, "not_found", `series ${seriesId} not found`, {
          field: "id",
        });
      }
      const plan = planHoldout(rows[0].points, getConfig().VIGIL_MIN_TRAINING_POINTS);
      if (plan.problem) {
        throw new ApiError(409, "not_enough_history", `series ${seriesId}: ${plan.problem}`, {
          field: "id",
        });
      }
      const { job, created } = await requestTraining(client, seriesId, "request", actor);
      await client.query("COMMIT");
      log.info(
        { seriesId, trainingJobId: job.id, created, actor: actor.name },
        created ? "model retraining requested" : "model retraining already open",
      );
      return {
        status: created ? 202 : 200,
        body: { trainingJob: job, created, requestId },
      };
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  },
);
