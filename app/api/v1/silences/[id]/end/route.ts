import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { now } from "@/lib/clock";
import { getPool } from "@/lib/db";
import { requireEmptyBody } from "@/lib/models/route-params";
import { authenticateOncallAdmin, parseId } from "@/lib/oncall/api";
import { resumeDeferredEscalations } from "@/lib/oncall/escalation";
import { inTransaction } from "@/lib/oncall/schedules";
import { silenceView } from "@/lib/oncall/views";
import { endSilence } from "@/lib/oncall/windows";

/** Ends a silence now; escalations it deferred resume at once (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/silences/{id}/end",
  async ({ request, params, readBody, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    requireEmptyBody((await readBody()).bytes);
    const at = now();
    const result = await inTransaction(getPool(), async (client) => {
      const silence = await endSilence(client, id, at);
      if (!silence) return null;
      const resumed = await resumeDeferredEscalations(client, silence.serviceId, at);
      return { silence, resumed };
    });
    if (!result) throw new ApiError(404, "not_found", `no silence with id ${id}`, { field: "id" });
    log.info({ silenceId: id, resumedEscalations: result.resumed, actor: actor.name }, "silence ended");
    return { body: { silence: silenceView(result.silence), requestId } };
  },
);
