import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import {
  authenticateOncallAdmin,
  authenticateOncallReader,
  parseId,
  parseScheduleUpdate,
} from "@/lib/oncall/api";
import { deleteSchedule, loadSchedule, updateSchedule } from "@/lib/oncall/schedules";
import { scheduleView } from "@/lib/oncall/views";

function scheduleNotFound(id: number): ApiError {
  return new ApiError(404, "not_found", `no on-call schedule with id ${id}`, { field: "id" });
}

/** Reads one schedule with who is on call now and the next handoffs. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/schedules/{id}",
  async ({ request, params, requestId }) => {
    await authenticateOncallReader(request);
    const id = parseId(params.id, "id");
    const at = now();
    const schedule = await loadSchedule(getPool(), id, at);
    if (!schedule) throw scheduleNotFound(id);
    return { body: { schedule: scheduleView(schedule, at), requestId } };
  },
);

/** Changes a schedule; a `layers` array replaces all its layers (admin). */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/schedules/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    const input = parseScheduleUpdate(await readJson());
    if (!(await updateSchedule(getPool(), id, input))) throw scheduleNotFound(id);
    log.info({ scheduleId: id, actor: actor.name }, "on-call schedule updated");
    const at = now();
    const schedule = await loadSchedule(getPool(), id, at);
    return { body: { schedule: scheduleView(schedule!, at), requestId } };
  },
);

/** Deletes a schedule that no escalation policy targets (admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/schedules/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    if (!(await deleteSchedule(getPool(), id))) throw scheduleNotFound(id);
    log.info({ scheduleId: id, actor: actor.name }, "on-call schedule deleted");
    return { body: { deleted: true, requestId } };
  },
);
