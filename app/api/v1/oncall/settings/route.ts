import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin, authenticateOncallReader, parseSettingsBody } from "@/lib/oncall/api";
import { loadPagingSetting, savePagingChannel } from "@/lib/oncall/policies";

/** Returns the email channel that pages people when a policy names none. */
export const GET = unauthenticatedRoute("GET /api/v1/oncall/settings", async ({ request, requestId }) => {
  await authenticateOncallReader(request);
  return { body: { settings: await loadPagingSetting(getPool()), requestId } };
});

/** Sets the paging channel, an email channel, or clears it with null (admin). */
export const PUT = unauthenticatedRoute(
  "PUT /api/v1/oncall/settings",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const input = parseSettingsBody(await readJson());
    await savePagingChannel(getPool(), input.pagingChannelId);
    log.info({ pagingChannelId: input.pagingChannelId, actor: actor.name }, "paging channel set");
    return { body: { settings: await loadPagingSetting(getPool()), requestId } };
  },
);
