import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateNotificationAdmin,
  parseCreateRule,
} from "@/lib/notifications/api";
import { findChannel, insertRule, listRules } from "@/lib/notifications/store";

/** Lists the notification routing rules (admin). */
export const GET = unauthenticatedRoute(
  "GET /api/v1/routing-rules",
  async ({ request, requestId }) => {
    await authenticateNotificationAdmin(request);
    return { body: { rules: await listRules(getPool()), requestId } };
  },
);

/** Creates a routing rule that sends a service's incidents to a channel (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/routing-rules",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const input = parseCreateRule(await readJson());
    const pool = getPool();
    if (!(await findChannel(pool, input.channelId))) {
      throw new ApiError(422, "unknown_channel", `channelId ${input.channelId} names no notification channel`, {
        field: "channelId",
      });
    }
    let serviceId: number | null = null;
    if (input.service !== null) {
      const { rows } = await pool.query<{ id: number }>(
        "SELECT id FROM service WHERE slug = $1",
        [input.service],
      );
      if (!rows[0]) {
        throw new ApiError(422, "unknown_service", `service ${JSON.stringify(input.service)} does not exist`, {
          field: "service",
        });
      }
      serviceId = rows[0].id;
    }
    const rule = await insertRule(pool, {
      channelId: input.channelId,
      serviceId,
      minSeverity: input.minSeverity,
    });
    log.info({ ruleId: rule.id, channelId: rule.channelId, serviceId, actor: actor.name }, "routing rule created");
    return { status: 201, body: { rule, requestId } };
  },
);
