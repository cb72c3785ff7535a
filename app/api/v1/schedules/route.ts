import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin, authenticateOncallReader, parseScheduleBody } from "@/lib/oncall/api";
import { createSchedule, listSchedules, loadSchedule } from "@/lib/oncall/schedules";
import { scheduleView } from "@/lib/oncall/views";

/** Lists the on-call schedules with who is on call now and the next handoffs. */
export const GET = unauthenticatedRoute("GET /api/v1/schedules", async ({ request, requestId }) => {
  await authenticateOncallReader(request);
  const at = now();
  const schedules = await listSchedules(getPool(), at);
  return { body: { schedules: schedules.map((schedule) => scheduleView(schedule, at)), requestId } };
});

/** Creates a schedule with its rotation layers (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/schedules",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const input = parseScheduleBody(await readJson());
    const id = await createSchedule(getPool(), input);
    log.info({ scheduleId: id, actor: actor.name }, "on-call schedule created");
    const at = now();
    const schedule = await loadSchedule(getPool(), id, at);
    return { status: 201, body: { schedule: scheduleView(schedule!, at), requestId } };
  },
);
