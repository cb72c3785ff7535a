import { ApiError } from "@/lib/api/errors";
import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import {
  ADMIN_VIEW,
  authenticateRunbookAdmin,
  authenticateRunbookViewer,
  parseCreateRunbook,
  runbookJson,
} from "@/lib/runbooks/api";
import { storedTextProblem } from "@/lib/runbooks/text";
import { createRunbook, findRunbookById, listRunbooks } from "@/lib/runbooks/versions";

const MAX_SEARCH_LENGTH = 200;

/**
 * Lists runbooks by title. `?q=` keeps those whose slug, title or body
 * contains the text; `?archived=true` includes archived runbooks.
 */
export const GET = unauthenticatedRoute(
  "GET /api/v1/runbooks",
  async ({ request, requestId }) => {
    const reader = await authenticateRunbookViewer(request);
    const url = new URL(request.url);
    const search = url.searchParams.get("q") ?? "";
    if (search.length > MAX_SEARCH_LENGTH) {
      throw new ApiError(400, "invalid_field", `q must contain at most ${MAX_SEARCH_LENGTH} characters`, {
        field: "q",
      });
    }
    const searchProblem = storedTextProblem(search);
    if (searchProblem) {
      throw new ApiError(400, "invalid_field", `q ${searchProblem}`, { field: "q" });
    }
    const archived = url.searchParams.get("archived");
    if (archived !== null && archived !== "true" && archived !== "false") {
      throw new ApiError(400, "invalid_field", `archived must be true or false, got ${JSON.stringify(archived)}`, {
        field: "archived",
      });
    }
    const runbooks = await listRunbooks(getPool(), {
      search,
      includeArchived: archived === "true",
    });
    return { body: { runbooks: runbooks.map((runbook) => runbookJson(runbook, reader)), requestId } };
  },
);

/** Creates a runbook with its first version (admin); 409 when the slug is taken. */
export const POST = unauthenticatedRoute(
  "POST /api/v1/runbooks",
  async ({ request, readJson, log, requestId }) => {
    const author = await authenticateRunbookAdmin(request);
    const { slug, content } = parseCreateRunbook(await readJson());
    const runbook = await withTransaction(getPool(), async (client) => {
      const created = await createRunbook(client, slug, content, author, "created");
      if (!created) {
        throw new ApiError(409, "conflict", `a runbook with slug "${slug}" already exists (it may be archived); choose another slug`, {
          field: "slug",
        });
      }
      return findRunbookById(client, created.runbookId);
    });
    log.info({ runbookId: runbook!.id, slug, actor: author.name }, "runbook created");
    return { status: 201, body: { runbook: runbookJson(runbook!, ADMIN_VIEW), requestId } };
  },
);
