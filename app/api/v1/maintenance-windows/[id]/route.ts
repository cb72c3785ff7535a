import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallReader, parseId } from "@/lib/oncall/api";
import { windowView } from "@/lib/oncall/views";
import { findWindow } from "@/lib/oncall/windows";

/** Reads one maintenance window. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/maintenance-windows/{id}",
  async ({ request, params, requestId }) => {
    await authenticateOncallReader(request);
    const id = parseId(params.id, "id");
    const window = await findWindow(getPool(), id, now());
    if (!window) {
      throw new ApiError(404, "not_found", `no maintenance window with id ${id}`, { field: "id" });
    }
    return { body: { maintenanceWindow: windowView(window), requestId } };
  },
);
