import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { listServices } from "@/lib/ingest/services";

/** Lists every service; any valid API token may read it. */
export const GET = apiRoute(
  { route: "GET /api/v1/services", scope: TokenScope.ingest },
  async ({ requestId }) => ({
    body: { services: await listServices(), requestId },
  }),
);
