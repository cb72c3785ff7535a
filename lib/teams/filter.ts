import { getPool } from "@/lib/db";
import { listTeams } from "@/lib/teams/store";

// The service or team filter of the dashboard pages: ?service=<slug> picks
// one service and ?team=<slug> every service of a team. When both are set,
// the service wins, because the filter select sets only one of them.

export type DashboardTeam = { slug: string; name: string; serviceIds: number[] };

export type DashboardFilter<S extends { id: number; slug: string }> = {
  service: S | undefined;
  team: DashboardTeam | undefined;
  /** Services the KPIs and incidents cover; undefined means every service. */
  serviceIds: number[] | undefined;
  /** Every team, for the filter select. */
  teams: { slug: string; name: string }[];
};

/**
 * Resolves ?service= and ?team= against the known services and teams. An
 * unknown slug is ignored, as the service filter has always done, so the
 * page shows every service. A team without services gives an empty
 * serviceIds list, which selects no service.
 */
export async function resolveDashboardFilter<S extends { id: number; slug: string }>(
  services: S[],
  serviceSlug: string | undefined,
  teamSlug: string | undefined,
): Promise<DashboardFilter<S>> {
  const teams = await listTeams(getPool());
  const teamOptions = teams.map(({ slug, name }) => ({ slug, name }));
  const service = services.find((item) => item.slug === serviceSlug);
  if (service) {
    return { service, team: undefined, serviceIds: [service.id], teams: teamOptions };
  }
  const found = teams.find((item) => item.slug === teamSlug);
  if (!found) {
    return { service: undefined, team: undefined, serviceIds: undefined, teams: teamOptions };
  }
  const team = {
    slug: found.slug,
    name: found.name,
    serviceIds: found.services.map((item) => item.id),
  };
  return { service: undefined, team, serviceIds: team.serviceIds, teams: teamOptions };
}
