import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateModelRequest,
  requireSeriesAccess,
} from "@/lib/models/request-auth";
import { parsePositiveId } from "@/lib/models/route-params";
import { loadSeriesModels } from "@/lib/models/versions";

/**
 * Returns a series' model versions (without weights), training jobs and
 * drift measurements. Any signed-in user or API token may read them.
 */
export const GET = unauthenticatedRoute(
  "GET /api/v1/series/{id}/models",
  async ({ request, params, requestId }) => {
    const actor = await authenticateModelRequest(request, {
      minRole: "viewer",
      scope: "ingest",
    });
    const seriesId = parsePositiveId(params.id, "id");
    await requireSeriesAccess(actor, seriesId);
    const models = await loadSeriesModels(getPool(), seriesId);
    if (!models) {
      throw new ApiError(404, "not_found", `series ${seriesId} not found`, {
        field: "id",
      });
    }
    return { body: { ...models, requestId } };
  },
);
