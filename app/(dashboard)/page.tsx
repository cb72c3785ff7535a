import { RiAlarmWarningLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import {
  buildHref,
  firstParam,
  parseRangeSelection,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { AutoRefresh } from "@/components/auto-refresh";
import { EmptyState } from "@/components/empty-state";
import { IncidentTable } from "@/components/incident-table";
import { KpiGrid } from "@/components/kpi-card";
import { PageHeader } from "@/components/page-header";
import { RangeNotice, RangePicker } from "@/components/range-picker";
import { ServiceFilter } from "@/components/service-filter";
import { requireUser } from "@/lib/auth/session";
import { countOpenIncidents, listIncidents } from "@/lib/incidents/queries";
import { listServices } from "@/lib/services/queries";
import { resolveDashboardFilter } from "@/lib/teams/filter";

export const metadata: Metadata = { title: "Overview" };

const LATEST_INCIDENTS = 8;
const LIVE_REFRESH_MS = 15_000;

export default async function OverviewPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  await requireUser();
  const params = await searchParams;
  const now = new Date();
  const selection = parseRangeSelection(params, now);
  const services = await listServices();
  const { service, team, serviceIds, teams } = await resolveDashboardFilter(
    services,
    firstParam(params.service),
    firstParam(params.team),
  );

  const range = { from: selection.from, to: selection.to, serviceIds };
  const [open, latest] = await Promise.all([
    countOpenIncidents(serviceIds),
    listIncidents({ serviceIds, limit: LATEST_INCIDENTS }),
  ]);

  return (
    <>
      <PageHeader
        title="Overview"
        description={`${service ? service.name : team ? `Team ${team.name}` : "All services"}, ${selection.description}`}
        actions={
          <>
            {selection.key !== "custom" && (
              <AutoRefresh intervalMs={LIVE_REFRESH_MS} />
            )}
            <ServiceFilter
              services={services}
              selected={service?.slug}
              teams={teams}
              selectedTeam={team?.slug}
            />
            <RangePicker
              path="/"
              selection={selection}
              keep={{ service: service?.slug, team: team?.slug }}
            />
          </>
        }
      />
      {selection.error && <RangeNotice message={selection.error} />}
      {team && team.serviceIds.length === 0 && (
        <div className="mb-4" data-testid="team-empty">
          <EmptyState title={`Team ${team.name} has no services yet`}>
            Its KPIs and incidents stay empty until an admin assigns services
            to it under Settings, Teams.
          </EmptyState>
        </div>
      )}
      {services.length === 0 && (
        <div className="mb-4" data-testid="overview-empty">
          <EmptyState title="No services yet">
            The KPIs fill in once services send metrics, deployments or alerts
            through the ingest API. To try Vigil with sample telemetry, start
            it with <code>npm start -- --demo</code>.
          </EmptyState>
        </div>
      )}

      <KpiGrid
        range={range}
        trendBuckets={selection.trendBuckets}
        service={service?.slug}
        team={team?.slug}
      />

      <section className="grid grid-cols-1 gap-4 lg:grid-cols-4">
        <Card
          className="h-fit min-w-0 p-4 lg:col-span-1"
          data-testid="open-incidents"
        >
          <h2 className="text-sm font-medium text-slate-600">Open incidents</h2>
          <p className="mt-2 text-3xl font-semibold tabular-nums text-slate-900">
            {open.total}
          </p>
          <dl className="mt-4 space-y-2 text-sm">
            <div className="flex justify-between">
              <dt className="text-slate-500">Triggered</dt>
              <dd className="font-medium tabular-nums text-rose-600">
                {open.triggered}
              </dd>
            </div>
            <div className="flex justify-between">
              <dt className="text-slate-500">Acknowledged</dt>
              <dd className="font-medium tabular-nums text-amber-600">
                {open.acknowledged}
              </dd>
            </div>
          </dl>
          {services.length > 0 && (
            <>
              <h3 className="mt-5 border-t border-slate-100 pt-4 text-xs font-medium uppercase tracking-wide text-slate-500">
                By service
              </h3>
              <ul className="mt-2 space-y-1.5 text-sm">
                {(serviceIds ? services.filter((item) => serviceIds.includes(item.id)) : services).map((item) => (
                  <li
                    key={item.id}
                    className="flex items-center justify-between gap-2"
                  >
                    <Link
                      href={buildHref("/incidents", {
                        status: "open",
                        service: item.slug,
                      })}
                      prefetch={false}
                      className="truncate text-slate-700 hover:text-indigo-600"
                    >
                      {item.name}
                    </Link>
                    {item.openIncidentCount > 0 ? (
                      <span className="rounded-full bg-rose-50 px-2 text-xs font-medium tabular-nums text-rose-700">
                        {item.openIncidentCount} open
                      </span>
                    ) : (
                      <span className="text-xs text-emerald-600">healthy</span>
                    )}
                  </li>
                ))}
              </ul>
            </>
          )}
        </Card>

        <Card className="min-w-0 p-0 lg:col-span-3">
          <div className="flex items-center justify-between border-b border-slate-200 px-4 py-3">
            <h2 className="text-sm font-medium text-slate-900">
              Latest incidents
            </h2>
            <Link
              href={buildHref("/incidents", { service: service?.slug })}
              prefetch={false}
              className="text-xs font-medium text-indigo-600 hover:text-indigo-800"
            >
              All incidents
            </Link>
          </div>
          {latest.length === 0 ? (
            <div className="p-4">
              <EmptyState
                title="No incidents yet"
                icon={<RiAlarmWarningLine className="size-6" aria-hidden />}
              >
                Incidents appear here when the detector finds anomalous
                telemetry or an alert opens one.
              </EmptyState>
            </div>
          ) : (
            <div className="px-2">
              <IncidentTable incidents={latest} now={now} />
            </div>
          )}
        </Card>
      </section>
    </>
  );
}
