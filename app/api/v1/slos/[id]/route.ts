import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin } from "@/lib/oncall/api";
import {
  authenticateSloReader,
  parseSloId,
  requireSloAccess,
  sloNotFound,
  sloView,
  toApiError,
} from "@/lib/slo/api";
import { deleteSloEndingBurn, updateSloEndingBurn } from "@/lib/slo/changes";
import { computeSloStatus } from "@/lib/slo/status";
import { findSlo, listSloBurns } from "@/lib/slo/store";

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

/**
 * Changes some fields of an SLO (admin); the result is checked as a whole.
 * Changing what a burning SLO measures ends its burn (lib/slo/changes.ts).
 */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/slos/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseSloId(params.id);
    const pool = getPool();
    const body = await readJson();
    const slo = await updateSloEndingBurn(pool, id, body, actor, log).catch((error: unknown) => {
      throw toApiError(error);
    });
    if (!slo) throw sloNotFound(id);
    log.info({ sloId: id, service: slo.serviceSlug, actor: actor.name }, "SLO updated");
    const status = await computeSloStatus(pool, slo, now());
    return { body: { slo: sloView(slo, status), requestId } };
  },
);

/**
 * Deletes an SLO (admin). A burn in progress ends first and resolves its
 * incident unless other burns share it. Incidents of earlier burns stay.
 */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/slos/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseSloId(params.id);
    if (!(await deleteSloEndingBurn(getPool(), id, actor, log))) throw sloNotFound(id);
    log.info({ sloId: id, actor: actor.name }, "SLO deleted");
    return { body: { deleted: true, id, requestId } };
  },
);
