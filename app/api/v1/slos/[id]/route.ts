import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin } from "@/lib/oncall/api";
import {
  authenticateSloReader,
  checkServiceFits,
  parsePatchBody,
  parseSloId,
  requireSloAccess,
  sloNotFound,
  sloView,
  toApiError,
} from "@/lib/slo/api";
import { computeSloStatus } from "@/lib/slo/status";
import { deleteSlo, findSlo, listSloBurns, sloToInput, updateSlo } from "@/lib/slo/store";

/** Reads one SLO with its status now and its 20 newest burns. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/slos/{id}",
  async ({ request, params, requestId }) => {
    const actor = await authenticateSloReader(request);
    const id = parseSloId(params.id);
    const pool = getPool();
    const slo = requireSloAccess(actor, await findSlo(pool, id), id);
    const status = await computeSloStatus(pool, slo, now());
    const burns = await listSloBurns(pool, [slo.id], 20);
    return { body: { slo: sloView(slo, status, burns.get(slo.id)), requestId } };
  },
);

/** Changes some fields of an SLO (admin); the result is checked as a whole. */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/slos/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseSloId(params.id);
    const pool = getPool();
    const current = await findSlo(pool, id);
    if (!current) throw sloNotFound(id);
    const input = parsePatchBody(await readJson(), sloToInput(current));
    await checkServiceFits(pool, input);
    const slo = await updateSlo(pool, id, input).catch((error: unknown) => {
      throw toApiError(error);
    });
    if (!slo) throw sloNotFound(id);
    log.info({ sloId: id, service: input.service, actor: actor.name }, "SLO updated");
    const status = await computeSloStatus(pool, slo, now());
    return { body: { slo: sloView(slo, status), requestId } };
  },
);

/** Deletes an SLO (admin). The incidents its burns opened stay. */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/slos/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseSloId(params.id);
    if (!(await deleteSlo(getPool(), id))) throw sloNotFound(id);
    log.info({ sloId: id, actor: actor.name }, "SLO deleted");
    return { body: { deleted: true, id, requestId } };
  },
);
