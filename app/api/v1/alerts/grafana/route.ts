import { apiRoute } from "@/lib/api/handler";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { receiveAlertWebhook } from "@/lib/ingest/alerts/receive";

/**
 * Grafana alerting webhook contact point; see docs/api.md. Firing alerts
 * open or join incidents and resolved alerts resolve them.
 */
export const POST = apiRoute(
  { route: "POST /api/v1/alerts/grafana", scope: TokenScope.ingest },
  (context) => receiveAlertWebhook("grafana", context),
);
