import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { ingestMetrics } from "@/lib/ingest/metrics";

/** Stores a batch of metric points; see docs/api.md. */
export const POST = apiRoute(
  { route: "POST /api/v1/metrics", scope: TokenScope.ingest },
  async ({ readJson, token, log, requestId }) => {
    const result = await ingestMetrics(await readJson(), token, log);
    return {
      body: {
        accepted: {
          series: result.seriesCount,
          points: result.insertedPoints,
        },
        duplicates: result.duplicatePoints,
        requestId,
      },
    };
  },
);
