import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import {
  authenticateScheduleRequest,
  resolveScheduleInput,
  scheduleJson,
} from "@/lib/reports/schedule-api";
import { findSchedule, insertSchedule, listSchedules } from "@/lib/reports/schedule-store";

/** Lists the report schedules with their next run and newest run (manager, admin). */
export const GET = unauthenticatedRoute("GET /api/v1/report-schedules", async ({ request, requestId }) => {
  await authenticateScheduleRequest(request);
  const schedules = await listSchedules(getPool());
  return { body: { schedules: schedules.map((schedule) => scheduleJson(schedule)), requestId } };
});

/** Creates a report schedule (manager, admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/report-schedules",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateScheduleRequest(request);
    const input = await resolveScheduleInput(await readJson());
    const id = await withTransaction(getPool(), (client) =>
      insertSchedule(client, input, { id: actor.type === "user" ? actor.id : null, name: actor.name }),
    );
    const schedule = (await findSchedule(getPool(), id))!;
    log.info(
      { scheduleId: id, actor: { type: actor.type, id: actor.id }, nextRunAt: schedule.nextRunAt?.toISOString() ?? null },
      "report schedule created",
    );
    return { status: 201, body: { schedule: scheduleJson(schedule), requestId } };
  },
);
