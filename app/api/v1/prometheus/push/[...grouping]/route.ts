import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { handlePush } from "@/lib/ingest/prometheus/push";

// Pushgateway-compatible push of the Prometheus text format or OpenMetrics
// text; see docs/api.md. PUT and POST store the same way, because Vigil
// appends history instead of replacing a group.
//
// The handlers take only the request: handlePush reads the grouping labels
// from the URL path, and Next's catch-all params (string[]) do not fit the
// Record<string, string> params type of apiRoute.

const post = apiRoute(
  { route: "POST /api/v1/prometheus/push/job/{job}", scope: TokenScope.ingest },
  handlePush,
);
const put = apiRoute(
  { route: "PUT /api/v1/prometheus/push/job/{job}", scope: TokenScope.ingest },
  handlePush,
);

/** Stores a pushed body. The path carries the job and grouping labels. */
export function POST(request: Request): Promise<Response> {
  return post(request);
}

/** Same as POST. */
export function PUT(request: Request): Promise<Response> {
  return put(request);
}
