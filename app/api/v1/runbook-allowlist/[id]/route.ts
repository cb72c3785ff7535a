import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { parsePositiveId } from "@/lib/models/route-params";
import { deleteAllowedHost } from "@/lib/runbooks/allowlist";
import { authenticateAllowlistAdmin, publicAllowedHost } from "@/lib/runbooks/step-api";

/**
 * Removes a host from the allowlist (admin). Queued and retrying step runs
 * to that host are refused at their next attempt.
 */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/runbook-allowlist/{id}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateAllowlistAdmin(request);
    const id = parsePositiveId(params.id, "id");
    const entry = await deleteAllowedHost(getPool(), id);
    if (!entry) {
      throw new ApiError(404, "not_found", `no runbook allowlist entry with id ${id}`, { field: "id" });
    }
    log.info(
      { allowedHostId: id, host: entry.host, port: entry.port, actor: actor.name },
      "runbook allowlist host removed",
    );
    return { body: { deleted: true, host: publicAllowedHost(entry), requestId } };
  },
);
