import { ApiError } from "@/lib/api/errors";
import {
  authenticateModelRequest,
  type ModelRequestActor,
} from "@/lib/models/request-auth";
import { teamSlugSchema } from "@/lib/teams/validation";

// Access checks of the team API. Any signed-in user and any valid API token
// reads teams. Changing them needs an admin's session or an admin-scope
// token that is not bound to a service, because a team spans services.

/** Returns the user or API token behind a request that reads teams. */
export function authenticateTeamReader(request: Request): Promise<ModelRequestActor> {
  return authenticateModelRequest(request, { minRole: "viewer", scope: "ingest" });
}

/** Returns the admin behind a request that changes teams; throws 401 or 403. */
export async function authenticateTeamAdmin(request: Request): Promise<ModelRequestActor> {
  const actor = await authenticateModelRequest(request, { minRole: "admin", scope: "admin" });
  if (actor.type === "token" && actor.serviceId !== null) {
    throw new ApiError(
      403,
      "forbidden",
      "a team spans services, so a token bound to one service may not change teams; use an unbound admin token",
      { logContext: { tokenId: actor.id } },
    );
  }
  return actor;
}

/** Checks a slug from the path; throws a 400 naming `slug`. */
export function parseTeamSlug(raw: string | undefined): string {
  const result = teamSlugSchema.safeParse(raw ?? "");
  if (!result.success) {
    throw new ApiError(
      400,
      "invalid_field",
      `slug ${result.error.issues[0]!.message}, got ${JSON.stringify(raw ?? "")}`,
      { field: "slug" },
    );
  }
  return result.data;
}
