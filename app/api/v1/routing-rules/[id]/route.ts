import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { authenticateNotificationAdmin, parseId } from "@/lib/notifications/api";
import { deleteRule } from "@/lib/notifications/store";

/** Deletes a routing rule (admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/routing-rules/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateNotificationAdmin(request);
    const id = parseId(params.id, "id");
    if (!(await deleteRule(getPool(), id))) {
      throw new ApiError(404, "not_found", `no routing rule with id ${id}`, { field: "id" });
    }
    log.info({ ruleId: id, actor: actor.name }, "routing rule deleted");
    return { body: { deleted: true, requestId } };
  },
);
