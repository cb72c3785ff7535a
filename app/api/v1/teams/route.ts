import { unauthenticatedRoute } from "@/lib/api/handler";
import { getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import { authenticateTeamAdmin, authenticateTeamReader } from "@/lib/teams/api";
import { createTeam, listTeams, teamJson } from "@/lib/teams/store";
import { parseCreateTeam } from "@/lib/teams/validation";

/** Lists every team with its services; any signed-in user or API token may read it. */
export const GET = unauthenticatedRoute("GET /api/v1/teams", async ({ request, requestId }) => {
  await authenticateTeamReader(request);
  const teams = await listTeams(getPool());
  return { body: { teams: teams.map(teamJson), requestId } };
});

/**
 * Creates a team (admin). `services` lists the slugs of its services, which
 * move to it from any other team. 409 when the slug is taken.
 */
export const POST = unauthenticatedRoute("POST /api/v1/teams", async ({ request, readJson, log, requestId }) => {
  const actor = await authenticateTeamAdmin(request);
  const input = parseCreateTeam(await readJson());
  const team = await withTransaction(getPool(), (client) => createTeam(client, input));
  log.info(
    { teamId: team.id, slug: team.slug, services: team.services.map((service) => service.slug), actor: actor.name },
    "team created",
  );
  return { status: 201, body: { team: teamJson(team), requestId } };
});
