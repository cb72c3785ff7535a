import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { authenticateTeamAdmin, authenticateTeamReader, parseTeamSlug } from "@/lib/teams/api";
import { deleteTeam, findTeamBySlug, teamJson, teamNotFound, updateTeam } from "@/lib/teams/store";
import { parseUpdateTeam } from "@/lib/teams/validation";

/** Returns one team with its services. */
export const GET = unauthenticatedRoute("GET /api/v1/teams/{slug}", async ({ request, params, requestId }) => {
  await authenticateTeamReader(request);
  const slug = parseTeamSlug(params.slug);
  const team = await findTeamBySlug(getPool(), slug);
  if (!team) throw teamNotFound(slug);
  return { body: { team: teamJson(team), requestId } };
});

/**
 * Changes a team's name, description or services (admin). `services`
 * replaces the whole list: services left out lose the team, and listed
 * services move to it from any other team.
 */
export const PATCH = unauthenticatedRoute(
  "PATCH /api/v1/teams/{slug}",
  async ({ request, params, readJson, log, requestId }) => {
    const actor = await authenticateTeamAdmin(request);
    const slug = parseTeamSlug(params.slug);
    const input = parseUpdateTeam(await readJson());
    const team = await withTransaction(getPool(), (client) => updateTeam(client, slug, input));
    if (!team) throw teamNotFound(slug);
    log.info(
      {
        teamId: team.id,
        slug,
        fields: Object.keys(input),
        services: team.services.map((service) => service.slug),
        actor: actor.name,
      },
      "team updated",
    );
    return { body: { team: teamJson(team), requestId } };
  },
);

/** Deletes a team (admin); its services stay, without a team. */
export const DELETE = unauthenticatedRoute(
  "DELETE /api/v1/teams/{slug}",
  async ({ request, params, log, requestId }) => {
    const actor = await authenticateTeamAdmin(request);
    const slug = parseTeamSlug(params.slug);
    const released = await withTransaction(getPool(), (client) => deleteTeam(client, slug));
    if (released === null) throw teamNotFound(slug);
    log.info({ slug, releasedServices: released, actor: actor.name }, "team deleted");
    return { body: { deleted: slug, releasedServices: released, requestId } };
  },
);
