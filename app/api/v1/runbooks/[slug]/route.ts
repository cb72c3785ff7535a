import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import {
  ADMIN_VIEW,
  authenticateRunbookAdmin,
  authenticateRunbookViewer,
  parseSlug,
  parseUpdateRunbook,
  runbookJson,
  versionJson,
} from "@/lib/runbooks/api";
import {
  findRunbookBySlug,
  listVersions,
  saveRunbookVersion,
  setArchived,
} from "@/lib/runbooks/versions";

function notFound(slug: string): ApiError {
  return new ApiError(404, "not_found", `no runbook with slug "${slug}"`, { field: "slug" });
}

/** Returns one runbook with every version, newest first. */
export const GET = unauthenticatedRoute(
  "GET /api/v1/runbooks/{slug}",
  async ({ request, params, requestId }) => {
    const reader = await authenticateRunbookViewer(request);
    const slug = parseSlug(params.slug);
    const pool = getPool();
    const runbook = await findRunbookBySlug(pool, slug);
    if (!runbook) throw notFound(slug);
    const versions = await listVersions(pool, runbook.id);
    return {
      body: {
        runbook: runbookJson(runbook, reader),
        versions: versions.map((version) => versionJson(version, reader)),
        requestId,
      },
    };
  },
);

/**
 * Stores the body as the runbook's next version (admin). The body is the
 * whole content, as for POST. Content equal to the current version stores
 * nothing and returns changed false.
 */
export const PUT = unauthenticatedRoute(
  "PUT /api/v1/runbooks/{slug}",
  async ({ request, params, readJson, log, requestId }) => {
    const author = await authenticateRunbookAdmin(request);
    const slug = parseSlug(params.slug);
    const { content, note } = parseUpdateRunbook(await readJson());
    const result = await withTransaction(getPool(), async (client) => {
      const runbook = await findRunbookBySlug(client, slug, { lock: true });
      if (!runbook) throw notFound(slug);
      if (runbook.archivedAt !== null) {
        throw new ApiError(409, "archived", `runbook "${slug}" is archived; restore it before editing`, {
          field: "slug",
        });
      }
      const saved = await saveRunbookVersion(client, runbook, content, author, note);
      return { saved, runbook: await findRunbookBySlug(client, slug) };
    });
    log.info(
      { slug, version: result.saved.version, changed: result.saved.changed, actor: author.name },
      result.saved.changed ? "runbook version stored" : "runbook unchanged",
    );
    return {
      body: { runbook: runbookJson(result.runbook!, ADMIN_VIEW), changed: result.saved.changed, requestId },
    };
  },
);

/**
 * Archives a runbook (admin): it keeps its versions and past suggestions
 * but is no longer suggested. Archiving an archived runbook returns 200
 * with changed false.
 */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/runbooks/{slug}",
  async ({ request, params, log, requestId }) => {
    const author = await authenticateRunbookAdmin(request);
    const slug = parseSlug(params.slug);
    const pool = getPool();
    const runbook = await findRunbookBySlug(pool, slug);
    if (!runbook) throw notFound(slug);
    const changed = await setArchived(pool, runbook.id, true);
    log.info({ slug, changed, actor: author.name }, "runbook archived");
    const updated = await findRunbookBySlug(pool, slug);
    return { body: { runbook: runbookJson(updated!, ADMIN_VIEW), changed, requestId } };
  },
);
