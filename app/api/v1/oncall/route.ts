import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallReader } from "@/lib/oncall/api";
import { onCallOverview } from "@/lib/oncall/views";

/**
 * Returns who is on call now in every schedule, and for every service the
 * people level 1 of its escalation policy pages.
 */
export const GET = unauthenticatedRoute("GET /api/v1/oncall", async ({ request, requestId }) => {
  await authenticateOncallReader(request);
  const overview = await onCallOverview(getPool(), now());
  return { body: { ...overview, requestId } };
});
