import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { parseInput } from "@/lib/api/validation";
import { getPool } from "@/lib/db";
import {
  addAllowedHost,
  allowedHostInputSchema,
  formatAllowedHost,
  listAllowedHosts,
} from "@/lib/runbooks/allowlist";
import { authenticateAllowlistAdmin, publicAllowedHost } from "@/lib/runbooks/step-api";

/** Lists the hosts that runbook steps may call (admin). */
export const GET = unauthenticatedRoute(
  "GET /api/v1/runbook-allowlist",
  async ({ request, requestId }) => {
    await authenticateAllowlistAdmin(request);
    const hosts = await listAllowedHosts(getPool());
    return { body: { hosts: hosts.map(publicAllowedHost), requestId } };
  },
);

/** Adds a host, with an optional port and note, to the allowlist (admin). */
export const POST = unauthenticatedRoute(
  "POST /api/v1/runbook-allowlist",
  async ({ request, readJson, log, requestId }) => {
    const actor = await authenticateAllowlistAdmin(request);
    const input = parseInput(allowedHostInputSchema, await readJson());
    const entry = await addAllowedHost(getPool(), input, actor);
    if (!entry) {
      throw new ApiError(
        409,
        "already_allowed",
        `${formatAllowedHost(input)} is already on the runbook allowlist`,
        { field: "host" },
      );
    }
    log.info(
      { allowedHostId: entry.id, host: entry.host, port: entry.port, actor: actor.name },
      "runbook allowlist host added",
    );
    return { status: 201, body: { host: publicAllowedHost(entry), requestId } };
  },
);
