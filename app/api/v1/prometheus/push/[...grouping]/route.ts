import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { handlePush } from "@/lib/ingest/prometheus/push";

// Pushgateway-compatible push of the Prometheus text format or OpenMetrics
// text; see docs/api.md. PUT and POST store the same way, because Vigil
// appends history instead of replacing a group.

/** Stores a pushed body; the path carries the job and grouping labels. */
export const POST = apiRoute(
  { route: "POST /api/v1/prometheus/push/job/{job}", scope: TokenScope.ingest },
  handlePush,
);

/** Same as POST. */
export const PUT = apiRoute(
  { route: "PUT /api/v1/prometheus/push/job/{job}", scope: TokenScope.ingest },
  handlePush,
);
