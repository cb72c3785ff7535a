import { z } from "zod";

import { ApiError } from "@/lib/api/errors";
import { parseInput } from "@/lib/api/validation";
import {
  authenticateModelRequest,
  type ModelRequestActor,
} from "@/lib/models/request-auth";
import {
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
    note: z.string().trim().max(500).optional(),
  })
  .strict();

const rollbackBody = z.strictObject({
  version: z.number().int().min(1),
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

/** A runbook as the API returns it. */
export function runbookJson(runbook: StoredRunbook) {
  return {
    id: runbook.id,
    slug: runbook.slug,
    version: runbook.currentVersion,
    archivedAt: runbook.archivedAt,
    createdAt: runbook.createdAt,
    updatedAt: runbook.updatedAt,
    ...runbook.content,
  };
}

/** A runbook version as the API returns it. */
export function versionJson(version: StoredVersion) {
  return {
    version: version.version,
    author: { type: version.author.type, id: version.author.id, name: version.author.name },
    note: version.note,
    createdAt: version.createdAt,
    ...version.content,
  };
}
