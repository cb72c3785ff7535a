import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import {
  ADMIN_VIEW,
  authenticateRunbookAdmin,
  parseRollback,
  parseSlug,
  runbookJson,
} from "@/lib/runbooks/api";
import {
  findRunbookBySlug,
  findVersion,
  saveRunbookVersion,
} from "@/lib/runbooks/versions";

/**
 * Rolls a runbook back to an older version (admin) by storing that
 * version's content as a new version, so the history stays whole. When the
 * current content already equals it, nothing is stored (changed false).
 */
export const POST = unauthenticatedRoute(
  "POST /api/v1/runbooks/{slug}/rollback",
  async ({ request, params, readJson, log, requestId }) => {
    const author = await authenticateRunbookAdmin(request);
    const slug = parseSlug(params.slug);
    const { version } = parseRollback(await readJson());
    const result = await withTransaction(getPool(), async (client) => {
      const runbook = await findRunbookBySlug(client, slug, { lock: true });
      if (!runbook) {
        throw new ApiError(404, "not_found", `no runbook with slug "${slug}"`, { field: "slug" });
      }
      if (runbook.archivedAt !== null) {
        throw new ApiError(409, "archived", `runbook "${slug}" is archived; restore it before a rollback`, {
          field: "slug",
        });
      }
      const target = await findVersion(client, runbook.id, version);
      if (!target) {
        throw new ApiError(
          404,
          "not_found",
          `runbook "${slug}" has no version ${version}; its latest is ${runbook.currentVersion ?? "none"}`,
          { field: "version" },
        );
      }
      const saved = await saveRunbookVersion(
        client,
        runbook,
        target.content,
        author,
        `rollback to version ${version}`,
      );
      return { saved, runbook: await findRunbookBySlug(client, slug) };
    });
    log.info(
      { slug, toVersion: version, version: result.saved.version, changed: result.saved.changed, actor: author.name },
      "runbook rolled back",
    );
    return {
      body: { runbook: runbookJson(result.runbook!, ADMIN_VIEW), changed: result.saved.changed, requestId },
    };
  },
);
