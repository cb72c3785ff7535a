import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin, parseId } from "@/lib/oncall/api";
import { deleteOverride } from "@/lib/oncall/schedules";

/** Deletes one override of a schedule (admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/schedules/{id}/overrides/{overrideId}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    const overrideId = parseId(params.overrideId, "overrideId");
    if (!(await deleteOverride(getPool(), id, overrideId))) {
      throw new ApiError(404, "not_found", `schedule ${id} has no override with id ${overrideId}`, {
        field: "overrideId",
      });
    }
    log.info({ scheduleId: id, overrideId, actor: actor.name }, "on-call override deleted");
    return { body: { deleted: true, requestId } };
  },
);
