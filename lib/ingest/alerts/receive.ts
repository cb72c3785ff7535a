import type { ApiRouteContext, ApiResult } from "@/lib/api/handler";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import {
  recordAlertDelivery,
  type AlertResult,
} from "@/lib/ingest/alerts/incidents";
import { parseAlertDelivery, type AlertSource } from "@/lib/ingest/alerts/parse";
import { serviceFromQuery } from "@/lib/ingest/service-choice";

// The request side of POST /api/v1/alerts/alertmanager and
// /api/v1/alerts/grafana: reads and parses the body, picks the forced
// service, records the delivery and builds the 200 response.

async function boundServiceSlug(serviceId: number): Promise<string> {
  const { rows } = await getPool().query<{ slug: string }>(
    "SELECT slug FROM service WHERE id = $1",
    [serviceId],
  );
  // The token row references the service with ON DELETE CASCADE, so a
  // bound token always has its service.
  return rows[0]!.slug;
}

function describeResult(result: AlertResult): Record<string, unknown> {
  const { outcome, incidentId, index, status, fingerprint, service } = result;
  return {
    index,
    status,
    fingerprint,
    service,
    outcome,
    incidentId,
    ...(result.outcome === "ignored" ? { reason: result.reason } : {}),
  };
}

/**
 * Handles one alert webhook delivery from `source` and returns the 200
 * response listing what happened to each alert.
 */
export async function receiveAlertWebhook(
  source: AlertSource,
  context: ApiRouteContext,
): Promise<ApiResult> {
  const { request, token, log, requestId } = context;
  const fromQuery = serviceFromQuery(request);
  const body = await context.readJson();
  const latestAcceptedMs =
    Date.now() + getConfig().VIGIL_INGEST_MAX_FUTURE_MINUTES * 60_000;
  const delivery = parseAlertDelivery(source, body, latestAcceptedMs);

  const forced =
    fromQuery ??
    (token.serviceId === null ? null : await boundServiceSlug(token.serviceId));
  const result = await recordAlertDelivery(delivery, forced, token, log);

  const truncated = result.truncatedAlerts > 0;
  return {
    body: {
      alerts: result.alerts.map(describeResult),
      opened: result.opened,
      reopened: result.reopened,
      joined: result.joined,
      resolved: result.resolved,
      ignored: result.ignored,
      truncatedAlerts: result.truncatedAlerts,
      ...(truncated
        ? {
            warning:
              `the notification is incomplete: ${result.truncatedAlerts} ` +
              "alerts of the group were left out by the sender (max_alerts) " +
              "and were not processed",
          }
        : {}),
      requestId,
    },
  };
}
