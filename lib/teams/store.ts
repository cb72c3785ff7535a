import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import { getPool } from "@/lib/db";
import type { CreateTeamInput, UpdateTeamInput } from "@/lib/teams/validation";

// Reads and writes of teams and of the team of each service. The write
// functions take a client inside a transaction (lib/ingest/transaction.ts),
// so that a rejected service list leaves the team unchanged.

type Queryable = pg.Pool | pg.PoolClient;

export type TeamService = { id: number; slug: string; name: string };

export type Team = {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  createdAt: Date;
  /** The team's services in slug order. */
  services: TeamService[];
};

type TeamRow = {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  created_at: Date;
  services: TeamService[] | null;
};

const TEAM_SELECT = `
  SELECT t.id, t.slug, t.name, t.description, t.created_at,
         (SELECT json_agg(json_build_object('id', s.id, 'slug', s.slug, 'name', s.name) ORDER BY s.slug)
            FROM service s WHERE s.team_id = t.id) AS services
    FROM team t`;

function toTeam(row: TeamRow): Team {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    services: row.services ?? [],
  };
}

/** Lists every team with its services, ordered by name and then slug. */
export async function listTeams(db: Queryable): Promise<Team[]> {
  const { rows } = await db.query<TeamRow>(`${TEAM_SELECT} ORDER BY t.name, t.slug`);
  return rows.map(toTeam);
}

/** Returns the team with this slug and its services, or null. */
export async function findTeamBySlug(db: Queryable, slug: string): Promise<Team | null> {
  const { rows } = await db.query<TeamRow>(`${TEAM_SELECT} WHERE t.slug = $1`, [slug]);
  return rows[0] ? toTeam(rows[0]) : null;
}

/**
 * Returns the teams with these slugs and their services, in slug order.
 * Throws a 400 naming `field` for the first slug that names no team.
 */
export async function findTeamsBySlugs(
  db: Queryable,
  slugs: string[],
  field: string,
): Promise<Team[]> {
  if (slugs.length === 0) return [];
  const { rows } = await db.query<TeamRow>(`${TEAM_SELECT} WHERE t.slug = ANY($1::text[]) ORDER BY t.slug`, [
    slugs,
  ]);
  const found = new Set(rows.map((row) => row.slug));
  const missing = slugs.find((slug) => !found.has(slug));
  if (missing !== undefined) {
    throw new ApiError(
      400,
      "invalid_field",
      `${field} names team ${JSON.stringify(missing)}, which does not exist; GET /api/v1/teams lists the teams`,
      { field },
    );
  }
  return rows.map(toTeam);
}

export function teamNotFound(slug: string): ApiError {
  return new ApiError(404, "not_found", `team ${JSON.stringify(slug)} not found`, { field: "slug" });
}

/** Returns the ids of the services with these slugs; throws a 400 naming `services[i]` otherwise. */
async function resolveServiceIds(client: pg.PoolClient, slugs: string[]): Promise<number[]> {
  if (slugs.length === 0) return [];
  const { rows } = await client.query<{ id: number; slug: string }>(
    "SELECT id, slug FROM service WHERE slug = ANY($1::text[])",
    [slugs],
  );
  const ids = new Map(rows.map((row) => [row.slug, row.id]));
  const missingIndex = slugs.findIndex((slug) => !ids.has(slug));
  if (missingIndex >= 0) {
    const field = `services[${missingIndex}]`;
    throw new ApiError(
      400,
      "invalid_field",
      `${field} names service ${JSON.stringify(slugs[missingIndex])}, which does not exist; GET /api/v1/services lists the services`,
      { field },
    );
  }
  return slugs.map((slug) => ids.get(slug)!);
}

/**
 * Makes `serviceIds` the whole service list of the team: services not in it
 * lose the team, and listed services move to it from any other team.
 */
async function replaceTeamServices(
  client: pg.PoolClient,
  teamId: number,
  serviceIds: number[],
): Promise<void> {
  await client.query("UPDATE service SET team_id = NULL WHERE team_id = $1 AND NOT (id = ANY($2::int[]))", [
    teamId,
    serviceIds,
  ]);
  if (serviceIds.length > 0) {
    await client.query("UPDATE service SET team_id = $1 WHERE id = ANY($2::int[])", [teamId, serviceIds]);
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "23505";
}

/** Creates a team with its services; throws 409 naming `slug` when the slug is taken. */
export async function createTeam(client: pg.PoolClient, input: CreateTeamInput): Promise<Team> {
  const serviceIds = await resolveServiceIds(client, input.services ?? []);
  let teamId: number;
  try {
    // A savepoint keeps the transaction usable for the caller after a
    // unique violation, which would otherwise abort it.
    await client.query("SAVEPOINT create_team");
    const { rows } = await client.query<{ id: number }>(
      "INSERT INTO team (slug, name, description) VALUES ($1, $2, $3) RETURNING id",
      [input.slug, input.name, input.description ?? null],
    );
    teamId = rows[0]!.id;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    await client.query("ROLLBACK TO SAVEPOINT create_team");
    throw new ApiError(409, "conflict", `a team with slug ${JSON.stringify(input.slug)} already exists; choose another slug`, {
      field: "slug",
    });
  }
  await replaceTeamServices(client, teamId, serviceIds);
  return (await findTeamBySlug(client, input.slug))!;
}

/**
 * Updates a team's name, description or whole service list; absent fields
 * are kept. Returns null when no team has the slug.
 */
export async function updateTeam(
  client: pg.PoolClient,
  slug: string,
  input: UpdateTeamInput,
): Promise<Team | null> {
  const { rows } = await client.query<{ id: number }>("SELECT id FROM team WHERE slug = $1 FOR UPDATE", [slug]);
  const teamId = rows[0]?.id;
  if (teamId === undefined) return null;
  if (input.name !== undefined) {
    await client.query("UPDATE team SET name = $2 WHERE id = $1", [teamId, input.name]);
  }
  if (input.description !== undefined) {
    await client.query("UPDATE team SET description = $2 WHERE id = $1", [teamId, input.description]);
  }
  if (input.services !== undefined) {
    await replaceTeamServices(client, teamId, await resolveServiceIds(client, input.services));
  }
  return findTeamBySlug(client, slug);
}

/**
 * Deletes a team. Its services stay and have no team afterwards (the
 * foreign key sets team_id to NULL). Returns the slugs of those services,
 * or null when no team has the slug.
 */
export async function deleteTeam(client: pg.PoolClient, slug: string): Promise<string[] | null> {
  // The row lock makes concurrent deletes of one team wait for each other,
  // so exactly one of them finds the row and the others return null (404).
  const { rows } = await client.query<{ id: number }>("SELECT id FROM team WHERE slug = $1 FOR UPDATE", [slug]);
  const teamId = rows[0]?.id;
  if (teamId === undefined) return null;
  const { rows: services } = await client.query<{ slug: string }>(
    "SELECT slug FROM service WHERE team_id = $1 ORDER BY slug",
    [teamId],
  );
  await client.query("DELETE FROM team WHERE id = $1", [teamId]);
  return services.map((service) => service.slug);
}

/** Returns the team of each service that has one, keyed by service id. */
export async function teamsByService(db: Queryable): Promise<Map<number, { slug: string; name: string }>> {
  const { rows } = await db.query<{ service_id: number; slug: string; name: string }>(
    "SELECT s.id AS service_id, t.slug, t.name FROM service s JOIN team t ON t.id = s.team_id",
  );
  return new Map(rows.map((row) => [row.service_id, { slug: row.slug, name: row.name }]));
}

/** Public JSON shape of a team. */
export function teamJson(team: Team) {
  return {
    slug: team.slug,
    name: team.name,
    description: team.description,
    createdAt: team.createdAt.toISOString(),
    services: team.services.map((service) => ({ slug: service.slug, name: service.name })),
  };
}

/** Returns the team of one service, or null when it has none. */
export async function findServiceTeam(serviceId: number): Promise<{ slug: string; name: string } | null> {
  const { rows } = await getPool().query<{ slug: string; name: string }>(
    "SELECT t.slug, t.name FROM service s JOIN team t ON t.id = s.team_id WHERE s.id = $1",
    [serviceId],
  );
  return rows[0] ?? null;
}
