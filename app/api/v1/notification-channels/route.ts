import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateNotificationAdmin,
  parseCreateChannel,
} from "@/lib/notifications/api";
import { publicChannel } from "@/lib/notifications/channels";
import { insertChannel, listChannels } from "@/lib/notifications/store";

/** Lists the notification channels, secrets masked (admin). */
export const GET = unauthenticatedRoute(
  "GET /api/v1/notification-channels",
  async ({ request, requestId }) => {
    await authenticateNotificationAdmin(request);
    const channels = await listChannels(getPool());
    return { body: { channels: channels.map(publicChannel), requestId } };
  },
);

/** Creates a notification channel (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/notification-channels",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const input = parseCreateChannel(await readJson());
    const channel = await insertChannel(getPool(), input);
    log.info(
      { channelId: channel.id, type: channel.type, actor: actor.name },
      "notification channel created",
    );
    return { status: 201, body: { channel: publicChannel(channel), requestId } };
  },
);
