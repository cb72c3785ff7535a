import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { authenticateOncallAdmin, authenticateOncallReader, parsePolicyBody } from "@/lib/oncall/api";
import { createPolicy, listPolicies, loadPolicy } from "@/lib/oncall/policies";
import { policyView } from "@/lib/oncall/views";

import { policyWarnings } from "./warnings";

/** Lists the escalation policies with their levels and targets. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/escalation-policies",
  async ({ request, requestId }) => {
    await authenticateOncallReader(request);
    const policies = await listPolicies(getPool());
    return { body: { policies: policies.map(policyView), requestId } };
  },
);

/** Creates the escalation policy of a service (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/escalation-policies",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateOncallAdmin(request);
    const input = parsePolicyBody(await readJson());
    const id = await createPolicy(getPool(), input);
    log.info({ policyId: id, service: input.service, actor: actor.name }, "escalation policy created");
    const policy = (await loadPolicy(getPool(), id))!;
    const warnings = await policyWarnings(getPool(), policy);
    if (warnings.length > 0) log.warn({ policyId: id, warnings }, "escalation policy saved with warnings");
    return { status: 201, body: { policy: policyView(policy), warnings, requestId } };
  },
);
