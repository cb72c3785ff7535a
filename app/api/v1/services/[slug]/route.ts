import { ApiError } from "@/lib/api/errors";
import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { findService, putService } from "@/lib/ingest/services";

/** Returns one service; any valid API token may read it. */
export const GET = apiRoute(
  { route: "GET /api/v1/services/{slug}", scope: TokenScope.ingest },
  async ({ params, requestId }) => {
    const service = await findService(params.slug ?? "");
    if (service === null) {
      throw new ApiError(
        404,
        "not_found",
        `service "${params.slug}" not found`,
        { field: "slug" },
      );
    }
    return { body: { service, requestId } };
  },
);

/**
 * Creates or updates a service (admin scope): 201 when created, 200 when
 * updated. Fields absent from the body are kept and null clears them.
 */
export const PUT = apiRoute(
  { route: "PUT /api/v1/services/{slug}", scope: TokenScope.admin },
  async ({ params, readJson, token, log, requestId }) => {
    const result = await putService(params.slug, await readJson(), token, log);
    return {
      status: result.created ? 201 : 200,
      body: { service: result.service, requestId },
    };
  },
);
