import { unauthenticatedRoute } from "@/lib/api/handler";
import { invalidField } from "@/lib/api/errors";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { serviceFromQuery } from "@/lib/ingest/service-choice";
import { authenticateOncallAdmin, authenticateOncallReader, parseWindowBody } from "@/lib/oncall/api";
import { windowView } from "@/lib/oncall/views";
import { createWindow, listWindows } from "@/lib/oncall/windows";

/**
 * Lists maintenance windows that are not over, or all recent ones with
 * ?include=over; ?service=<slug> keeps one service's.
 */
export const GET = unauthenticatedRoute(
  "GET /api/v1/maintenance-windows",
  async ({ request, requestId }) => {
    await authenticateOncallReader(request);
    const query = new URL(request.url).searchParams;
    const include = query.get("include");
    if (include !== null && include !== "over") {
      throw invalidField("include", `include must be "over" or absent, got ${JSON.stringify(include)}`);
    }
    const at = now();
    const windows = await listWindows(getPool(), at, {
      includeOver: include === "over",
      serviceSlug: serviceFromQuery(request) ?? undefined,
    });
    return { body: { maintenanceWindows: windows.map(windowView), requestId } };
  },
);

/** Creates a maintenance window of one service (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/maintenance-windows",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const at = now();
    const input = parseWindowBody(await readJson(), at);
    const window = await createWindow(getPool(), input, actor, at);
    log.info(
      { maintenanceWindowId: window.id, service: input.service, actor: actor.name },
      "maintenance window created",
    );
    return { status: 201, body: { maintenanceWindow: windowView(window), requestId } };
  },
);
