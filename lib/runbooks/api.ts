import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import { authenticateBearer } from "@/lib/auth/api-token";
import {
  authenticateModelRequest,
  type ModelRequestActor,
} from "@/lib/models/request-auth";
import {
  hideStepHeaderValues,
  runbookBodySchema,
  runbookFieldsSchema,
  slugSchema,
  type RunbookContent,
} from "@/lib/runbooks/content";
import type { RunbookFeedbackActor } from "@/lib/runbooks/feedback";
import type {
  StoredRunbook,
  StoredVersion,
  VersionAuthor,
} from "@/lib/runbooks/versions";
import { checkStoredText } from "@/lib/runbooks/text";

// Request parsing, access checks and response shapes of the runbook API.
// Any signed-in user or valid API token reads runbooks. Changing them needs
// an admin's session or an admin-scope API token that is not bound to a
// service, because runbooks apply to every service. Marking a suggestion
// helpful needs a responder's session or an admin-scope token.

/** Returns the user or API token behind a request that reads runbooks. */
export function authenticateRunbookReader(
  request: Request,
): Promise<ModelRequestActor> {
  return authenticateModelRequest(request, { minRole: "viewer", scope: "ingest" });
}

/**
 * Authenticates a request that reads runbooks, as authenticateRunbookReader
 * does, and returns whether it may see step header values: admins' sessions
 * and admin-scope API tokens not bound to a service, the readers that may
 * also change runbooks.
 */
export async function authenticateRunbookViewer(
  request: Request,
): Promise<{ showHeaderValues: boolean }> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    return { showHeaderValues: token.scope === "admin" && token.serviceId === null };
  }
  const actor = await authenticateRunbookReader(request);
  return { showHeaderValues: actor.role === "admin" };
}

/** Returns the admin behind a request that changes runbooks, as a version author. */
export async function authenticateRunbookAdmin(
  request: Request,
): Promise<VersionAuthor> {
  const actor = await authenticateModelRequest(request, {
    minRole: "admin",
    scope: "admin",
  });
  if (actor.type === "token" && actor.serviceId !== null) {
    throw new ApiError(
      403,
      "forbidden",
      "runbooks apply to every service, so a token bound to one service may not change them; use an unbound admin token",
      { logContext: { tokenId: actor.id } },
    );
  }
  return { type: actor.type, id: actor.id, name: actor.name };
}

/** Returns the responder or admin token behind a runbook feedback request. */
export async function authenticateRunbookResponder(
  request: Request,
): Promise<RunbookFeedbackActor> {
  const actor = await authenticateModelRequest(request, {
    minRole: "responder",
    scope: "admin",
  });
  return {
    type: actor.type,
    id: actor.id,
    name: actor.name,
    serviceId: actor.serviceId,
  };
}

/** Parses a {slug} path parameter; throws a 400 naming "slug" otherwise. */
export function parseSlug(value: string | undefined): string {
  const result = slugSchema.safeParse(value ?? "");
  if (!result.success) {
    throw new ApiError(
      400,
      "invalid_field",
      `slug must be lower-case words joined by - (at most 100 characters), got ${JSON.stringify(value ?? "")}`,
      { field: "slug" },
    );
  }
  return result.data;
}

const contentBody = runbookFieldsSchema.extend({ body: runbookBodySchema });

// /runbooks/new is the page that creates a runbook, so no runbook may use
// that slug.
const createBody = contentBody
  .extend({
    slug: slugSchema.refine((slug) => slug !== "new", {
      message: 'must not be "new", which the runbook pages reserve',
    }),
  })
  .strict();

const updateBody = contentBody
  .extend({
    // Why the version exists, shown in the version history.
    note: z.string().trim().max(500).superRefine(checkStoredText).optional(),
  })
  .strict();

// Largest value of a PostgreSQL integer column.
const MAX_INT4 = 2_147_483_647;

const rollbackBody = z.strictObject({
  version: z.number().int().min(1).max(MAX_INT4),
});

const feedbackBody = z.strictObject({ helpful: z.boolean() });

/** Parses the body of POST /api/v1/runbooks. */
export function parseCreateRunbook(body: unknown): {
  slug: string;
  content: RunbookContent;
} {
  const { slug, ...content } = parseInput(createBody, body);
  return { slug, content };
}

/** Parses the body of PUT /api/v1/runbooks/{slug}: the whole new content. */
export function parseUpdateRunbook(body: unknown): {
  content: RunbookContent;
  note: string | null;
} {
  const { note, ...content } = parseInput(updateBody, body);
  return { content, note: note || null };
}

/** Parses the body of POST /api/v1/runbooks/{slug}/rollback. */
export function parseRollback(body: unknown): { version: number } {
  return parseInput(rollbackBody, body);
}

/** Parses the body of POST .../runbooks/{runbookId}/feedback. */
export function parseFeedback(body: unknown): { helpful: boolean } {
  return parseInput(feedbackBody, body);
}

/** Which parts of a runbook's content a response includes. */
export type RunbookJsonOptions = {
  /** False replaces step header values with HIDDEN_HEADER_VALUE. */
  showHeaderValues: boolean;
};

/** Options for a response to an admin who changed a runbook: every field is shown. */
export const ADMIN_VIEW: RunbookJsonOptions = { showHeaderValues: true };

function visibleContent(content: RunbookContent, options: RunbookJsonOptions): RunbookContent {
  return options.showHeaderValues ? content : hideStepHeaderValues(content);
}

/** A runbook as the API returns it. */
export function runbookJson(runbook: StoredRunbook, options: RunbookJsonOptions) {
  return {
    id: runbook.id,
    slug: runbook.slug,
    version: runbook.currentVersion,
    archivedAt: runbook.archivedAt,
    createdAt: runbook.createdAt,
    updatedAt: runbook.updatedAt,
    ...visibleContent(runbook.content, options),
  };
}

/** A runbook version as the API returns it. */
export function versionJson(version: StoredVersion, options: RunbookJsonOptions) {
  return {
    version: version.version,
    author: { type: version.author.type, id: version.author.id, name: version.author.name },
    note: version.note,
    createdAt: version.createdAt,
    ...visibleContent(version.content, options),
  };
}
