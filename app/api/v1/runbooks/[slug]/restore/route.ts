import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { ADMIN_VIEW, authenticateRunbookAdmin, parseSlug, runbookJson } from "@/lib/runbooks/api";
import { findRunbookBySlug, setArchived } from "@/lib/runbooks/versions";

/** Restores an archived runbook (admin), so that it is suggested again. */
export const POST = unauthenticatedRoute(
  "POST /api/v1/runbooks/{slug}/restore",
  async ({ request, params, log, requestId }) => {
    const author = await authenticateRunbookAdmin(request);
    const slug = parseSlug(params.slug);
    const pool = getPool();
    const runbook = await findRunbookBySlug(pool, slug);
    if (!runbook) {
      throw new ApiError(404, "not_found", `no runbook with slug "${slug}"`, { field: "slug" });
    }
    const changed = await setArchived(pool, runbook.id, false);
    log.info({ slug, changed, actor: author.name }, "runbook restored");
    const updated = await findRunbookBySlug(pool, slug);
    return { body: { runbook: runbookJson(updated!, ADMIN_VIEW), changed, requestId } };
  },
);
