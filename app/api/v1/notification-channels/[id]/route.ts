import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateNotificationAdmin,
  parseId,
  parseUpdateChannel,
} from "@/lib/notifications/api";
import { publicChannel } from "@/lib/notifications/channels";
import {
  deleteChannel,
  findChannel,
  listDeliveries,
  updateChannel,
} from "@/lib/notifications/store";

function channelNotFound(id: number): ApiError {
  return new ApiError(404, "not_found", `no notification channel with id ${id}`, {
    field: "id",
  });
}

/** Reads one channel, secrets masked, with its 50 newest deliveries (admin). */
export const GET = unauthenticatedRoute(
  "GET /api/v1/notification-channels/{id}",
  async ({ request, params, requestId }) => {
    await authenticateNotificationAdmin(request);
    const id = parseId(params.id, "id");
    const channel = await findChannel(getPool(), id);
    if (!channel) throw channelNotFound(id);
    const deliveries = await listDeliveries(getPool(), { limit: 50, channelId: id });
    return { body: { channel: publicChannel(channel), deliveries, requestId } };
  },
);

/** Changes a channel's name, enabled flag or settings (admin). */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/notification-channels/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const id = parseId(params.id, "id");
    const body = await readJson();
    const stored = await findChannel(getPool(), id);
    if (!stored) throw channelNotFound(id);
    const updated = await updateChannel(getPool(), id, parseUpdateChannel(body, stored));
    if (!updated) throw channelNotFound(id);
    log.info({ channelId: id, actor: actor.name }, "notification channel updated");
    return { body: { channel: publicChannel(updated), requestId } };
  },
);

/** Deletes a channel with its routing rules and delivery log (admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/notification-channels/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const id = parseId(params.id, "id");
    if (!(await deleteChannel(getPool(), id))) throw channelNotFound(id);
    log.info({ channelId: id, actor: actor.name }, "notification channel deleted");
    return { body: { deleted: true, requestId } };
  },
);
