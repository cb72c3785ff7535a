import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import {
  authenticateOncallAdmin,
  authenticateOncallReader,
  parseId,
  parsePolicyBody,
} from "@/lib/oncall/api";
import { deletePolicy, loadPolicy, replacePolicy } from "@/lib/oncall/policies";
import { policyView } from "@/lib/oncall/views";

import { policyWarnings } from "../warnings";

function policyNotFound(id: number): ApiError {
  return new ApiError(404, "not_found", `no escalation policy with id ${id}`, { field: "id" });
}

/** Reads one escalation policy. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/escalation-policies/{id}",
  async ({ request, params, requestId }) => {
    await authenticateOncallReader(request);
    const id = parseId(params.id, "id");
    const policy = await loadPolicy(getPool(), id);
    if (!policy) throw policyNotFound(id);
    return { body: { policy: policyView(policy), requestId } };
  },
);

/** Replaces a policy with the body, levels and targets included (admin). */
export const PUT = unauthenticatedRoute(
  "PUT /api/v1/escalation-policies/{id}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    const input = parsePolicyBody(await readJson());
    if (!(await replacePolicy(getPool(), id, input))) throw policyNotFound(id);
    log.info({ policyId: id, actor: actor.name }, "escalation policy replaced");
    const policy = (await loadPolicy(getPool(), id))!;
    const warnings = await policyWarnings(getPool(), policy);
    if (warnings.length > 0) log.warn({ policyId: id, warnings }, "escalation policy saved with warnings");
    return { body: { policy: policyView(policy), warnings, requestId } };
  },
);

/** Deletes a policy; escalations in progress under it stop (admin). */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/escalation-policies/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const id = parseId(params.id, "id");
    if (!(await deletePolicy(getPool(), id))) throw policyNotFound(id);
    log.info({ policyId: id, actor: actor.name }, "escalation policy deleted");
    return { body: { deleted: true, requestId } };
  },
);
