import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { authenticateNotificationAdmin, parseId } from "@/lib/notifications/api";
import { enqueueTestNotification } from "@/lib/notifications/enqueue";
import { findChannel } from "@/lib/notifications/store";

/**
 * Queues a test notification to one channel (admin). The worker sends it
 * like an incident notification, with the same retries, and the delivery
 * log shows the result.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/notification-channels/{id}/test",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const id = parseId(params.id, "id");
    const channel = await findChannel(getPool(), id);
    if (!channel) {
      throw new ApiError(404, "not_found", `no notification channel with id ${id}`, {
        field: "id",
      });
    }
    if (!channel.enabled) {
      throw new ApiError(409, "channel_disabled", `notification channel ${id} is disabled; enable it before sending a test`, {
        field: "id",
      });
    }
    const deliveryId = await enqueueTestNotification(getPool(), id);
    log.info({ channelId: id, deliveryId, actor: actor.name }, "test notification queued");
    return { status: 202, body: { deliveryId, requestId } };
  },
);
