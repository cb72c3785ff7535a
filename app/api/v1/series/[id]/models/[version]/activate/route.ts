import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateModelRequest,
  requireSeriesAccess,
} from "@/lib/models/request-auth";
import { parsePositiveId, requireEmptyBody } from "@/lib/models/route-params";
import { rollbackToVersion } from "@/lib/models/versions";

/**
 * Rolls a series back to an earlier model version (admin session or
 * admin-scope token). The version is copied as the series' next version
 * with reason rollback, which then scores the series' next points.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/series/{id}/models/{version}/activate",
  async ({ request, params, readBody, log, requestId }) => {
    const actor = await authenticateModelRequest(request, {
      minRole: "admin",
      scope: "admin",
    });
    const seriesId = parsePositiveId(params.id, "id");
    const version = parsePositiveId(params.version, "version");
    await requireSeriesAccess(actor, seriesId);
    const body = await readBody();
    requireEmptyBody(body.bytes);

    const client = await getPool().connect();
    let result;
    try {
      result = await rollbackToVersion(client, seriesId, version, actor.name);
    } finally {
      client.release();
    }

    switch (result.outcome) {
      case "not_found":
        throw new ApiError(
          404,
          "not_found",
          `series ${seriesId} has no model version ${version}`,
          { field: "version" },
        );
      case "already_active":
        throw new ApiError(
          409,
          "already_active",
          `model version ${version} of series ${seriesId} is already active`,
          { field: "version" },
        );
      case "not_activatable":
        throw new ApiError(
          409,
          "not_activatable",
          `model version ${version} has status ${result.status}; only retired or rejected versions can be activated`,
          { field: "version" },
        );
      case "activated":
        log.info(
          {
            seriesId,
            modelVersionId: result.modelVersionId,
            version: result.version,
            sourceVersion: version,
            actor: actor.name,
          },
          "model version rolled back",
        );
        return {
          body: {
            modelVersion: {
              id: result.modelVersionId,
              version: result.version,
              sourceVersion: result.sourceVersion,
              status: "active",
              reason: "rollback",
            },
            requestId,
          },
        };
    }
  },
);
