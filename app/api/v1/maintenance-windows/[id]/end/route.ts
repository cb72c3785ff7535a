import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { requireEmptyBody } from "@/lib/models/route-params";
import { authenticateOncallAdmin, parseId } from "@/lib/oncall/api";
import { resumeDeferredEscalations } from "@/lib/oncall/escalation";
import { inTransaction } from "@/lib/oncall/schedules";
import { windowView } from "@/lib/oncall/views";
import { endWindow } from "@/lib/oncall/windows";

/**
 * Ends a maintenance window now (admin). Escalations it deferred resume at
 * once; notifications it suppressed are not sent afterwards.
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/maintenance-windows/{id}/end",
  async ({ request, params, readBody, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    requireEmptyBody((await readBody()).bytes);
    const at = now();
    const result = await inTransaction(getPool(), async (client) => {
      const window = await endWindow(client, id, at);
      if (!window) return null;
      const resumed = await resumeDeferredEscalations(client, window.serviceId, at);
      return { window, resumed };
    });
    if (!result) {
      throw new ApiError(404, "not_found", `no maintenance window with id ${id}`, { field: "id" });
    }
    log.info(
      { maintenanceWindowId: id, resumedEscalations: result.resumed, actor: actor.name },
      "maintenance window ended",
    );
    return { body: { maintenanceWindow: windowView(result.window), requestId } };
  },
);
