import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { parsePositiveId } from "@/lib/models/route-params";
import {
  authenticateScheduleRequest,
  resolveSchedulePatch,
  scheduleJson,
} from "@/lib/reports/schedule-api";
import {
  deleteSchedule,
  findSchedule,
  listRuns,
  updateSchedule,
} from "@/lib/reports/schedule-store";

function scheduleNotFound(id: number): ApiError {
  return new ApiError(404, "not_found", `no report schedule with id ${id}`, { field: "id" });
}

/** Reads one report schedule with its 20 newest runs (manager, admin). */
export const GET = unauthenticatedRoute(
  "GET /api/v1/report-schedules/{id}",
  async ({ request, params, requestId }) => {
    await authenticateScheduleRequest(request);
    const id = parsePositiveId(params.id, "id");
    const schedule = await findSchedule(getPool(), id);
    if (!schedule) throw scheduleNotFound(id);
    const runs = await listRuns(getPool(), id);
    return { body: { schedule: scheduleJson(schedule, runs), requestId } };
  },
);

/**
 * Changes a report schedule (manager, admin). Fields left out keep their
 * values; a change of timing or enabling recomputes nextRunAt.
 */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/report-schedules/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateScheduleRequest(request);
    const id = parsePositiveId(params.id, "id");
    const body = await readJson();
    const stored = await findSchedule(getPool(), id);
    if (!stored) throw scheduleNotFound(id);
    const input = await resolveSchedulePatch(stored, body);
    const updated = await withTransaction(getPool(), (client) => updateSchedule(client, id, input));
    if (!updated) throw scheduleNotFound(id);
    const schedule = (await findSchedule(getPool(), id))!;
    log.info({ scheduleId: id, actor: { type: actor.type, id: actor.id } }, "report schedule updated");
    return { body: { schedule: scheduleJson(schedule), requestId } };
  },
);

/** Deletes a report schedule with its run history (manager, admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/report-schedules/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateScheduleRequest(request);
    const id = parsePositiveId(params.id, "id");
    if (!(await deleteSchedule(getPool(), id))) throw scheduleNotFound(id);
    log.info({ scheduleId: id, actor: { type: actor.type, id: actor.id } }, "report schedule deleted");
    return { body: { deleted: true, requestId } };
  },
);
