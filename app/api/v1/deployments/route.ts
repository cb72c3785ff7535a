import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { ingestDeployments } from "@/lib/ingest/deployments";

/**
 * Records one deployment or a batch; see docs/api.md. Responds 201 when
 * anything was created and 200 when every deployment existed already.
 */
export const POST = apiRoute(
  { route: "POST /api/v1/deployments", scope: TokenScope.ingest },
  async ({ readJson, token, log, requestId }) => {
    const result = await ingestDeployments(await readJson(), token, log);
    const created = result.deployments.filter((entry) => entry.created);
    const status = created.length > 0 ? 201 : 200;
    if (!result.batch) {
      return {
        status,
        body: { deployment: result.deployments[0], requestId },
      };
    }
    return {
      status,
      body: {
        deployments: result.deployments,
        created: created.length,
        existing: result.deployments.length - created.length,
        requestId,
      },
    };
  },
);
