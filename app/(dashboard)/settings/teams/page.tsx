import { Card } from "@tremor/react";
import type { Metadata } from "next";

import { PageHeader } from "@/components/page-header";
import { CreateTeamForm, EditTeamForm } from "@/components/team-forms";
import { ForbiddenError, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { listServiceOptions } from "@/lib/services/queries";
import { listTeams } from "@/lib/teams/store";

export const metadata: Metadata = { title: "Teams" };

export default async function TeamsSettingsPage() {
  try {
    await requireUser("admin");
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    return (
      <>
        <PageHeader title="Teams" />
        <p className="text-sm text-slate-600" role="alert">
          Only admins can manage teams; your role is {error.user.role}.
        </p>
      </>
    );
  }
  const [teams, services] = await Promise.all([listTeams(getPool()), listServiceOptions()]);
  const serviceOptions = services.map(({ slug, name }) => ({ slug, name }));

  return (
    <>
      <PageHeader
        title="Teams"
        description="Teams group services. The overview, the incident list and reports can be filtered by team. A service belongs to at most one team, so assigning it here moves it from its current team."
      />
      <Card className="mb-6">
        <h2 className="mb-3 text-sm font-medium text-slate-900">New team</h2>
        <CreateTeamForm services={serviceOptions} />
      </Card>
      {teams.length === 0 ? (
        <Card>
          <p className="text-sm text-slate-500" data-testid="teams-empty">
            No teams yet. Create one above and pick its services.
          </p>
        </Card>
      ) : (
        <ul className="space-y-4" data-testid="team-list">
          {teams.map((team) => (
            <li key={team.slug}>
              <Card>
                <h2 className="mb-3 text-sm font-medium text-slate-900">
                  {team.name} <span className="font-mono text-xs text-slate-400">{team.slug}</span>
                </h2>
                <EditTeamForm
                  team={{
                    slug: team.slug,
                    name: team.name,
                    description: team.description,
                    services: team.services.map(({ slug, name }) => ({ slug, name })),
                  }}
                  services={serviceOptions}
                />
              </Card>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
