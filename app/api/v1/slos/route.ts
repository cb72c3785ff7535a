import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { serviceFromQuery } from "@/lib/ingest/service-choice";
import { authenticateOncallAdmin } from "@/lib/oncall/api";
import {
  authenticateSloReader,
  checkServiceFits,
  parseCreateBody,
  sloView,
  toApiError,
} from "@/lib/slo/api";
import { listSloOverviews } from "@/lib/slo/overview";
import { computeSloStatus } from "@/lib/slo/status";
import { createSlo } from "@/lib/slo/store";

/**
 * Lists SLOs with their status now and their five newest burns;
 * ?service=<slug> keeps one service's. A token bound to a service reads
 * only that service's SLOs.
 */
export const GET = unauthenticatedRoute("GET /api/v1/slos", async ({ request, requestId }) => {
  const actor = await authenticateSloReader(request);
  const pool = getPool();
  const slug = serviceFromQuery(request);
  let serviceIds: number[] | null = actor.serviceId === null ? null : [actor.serviceId];
  if (slug !== null) {
    const { rows } = await pool.query<{ id: number }>("SELECT id FROM service WHERE slug = $1", [slug]);
    if (!rows[0]) {
      throw new ApiError(404, "not_found", `no service with slug ${JSON.stringify(slug)}`, { field: "service" });
    }
    serviceIds = serviceIds === null || serviceIds.includes(rows[0].id) ? [rows[0].id] : [];
  }
  const overviews = await listSloOverviews(pool, now(), serviceIds);
  return {
    body: {
      slos: overviews.map((overview) => sloView(overview.slo, overview.status, overview.burns)),
      requestId,
    },
  };
});

/** Creates an SLO (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/slos",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const input = parseCreateBody(await readJson());
    const pool = getPool();
    await checkServiceFits(pool, input);
    const slo = await createSlo(pool, input).catch((error: unknown) => {
      throw toApiError(error);
    });
    log.info({ sloId: slo.id, service: input.service, actor: actor.name }, "SLO created");
    const status = await computeSloStatus(pool, slo, now());
    return { status: 201, body: { slo: sloView(slo, status), requestId } };
  },
);
