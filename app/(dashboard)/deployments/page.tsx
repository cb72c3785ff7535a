import { RiRocketLine } from "@remixicon/react";
import {
  Card,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeaderCell,
  TableRow,
} from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import {
  buildHref,
  firstParam,
  parseRangeSelection,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { EmptyState } from "@/components/empty-state";
import { formatDuration } from "@/components/format";
import { PageHeader } from "@/components/page-header";
import { formatCount } from "@/components/plural";
import { RangeNotice, RangePicker } from "@/components/range-picker";
import { SegmentedLinks } from "@/components/segmented-links";
import { ServiceFilter } from "@/components/service-filter";
import { TimeWithAgo } from "@/components/time-with-ago";
import { requireUser } from "@/lib/auth/session";
import {
  DEPLOYMENT_LIST_LIMIT,
  kpiDeploymentEnvironments,
  listDeploymentsInRange,
} from "@/lib/kpi";
import { listServiceOptions } from "@/lib/services/queries";
import { resolveDashboardFilter } from "@/lib/teams/filter";

export const metadata: Metadata = { title: "Deployments" };

const STATUS_CLASSES: Record<string, string> = {
  success: "bg-emerald-50 text-emerald-700",
  failure: "bg-rose-50 text-rose-700",
  rolled_back: "bg-amber-50 text-amber-700",
  in_progress: "bg-slate-100 text-slate-600",
};

export default async function DeploymentsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  await requireUser();
  const params = await searchParams;
  const now = new Date();
  const selection = parseRangeSelection(params, now);
  const failedOnly = firstParam(params.outcome) === "failed";
  // By default the page lists the environments that the deployment KPIs
  // count (VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS); ?environment=all lists every one.
  const everyEnvironment = firstParam(params.environment) === "all";
  const services = await listServiceOptions();
  const { service, team, serviceIds, teams } = await resolveDashboardFilter(
    services,
    firstParam(params.service),
    firstParam(params.team),
  );

  const list = await listDeploymentsInRange(
    {
      from: selection.from,
      to: selection.to,
      serviceIds,
    },
    { failedOnly, deploymentEnvironments: everyEnvironment ? null : undefined },
  );
  const countedEnvironments = kpiDeploymentEnvironments();
  const environmentQuery = everyEnvironment ? "all" : undefined;

  const keep = {
    service: service?.slug,
    team: team?.slug,
    outcome: failedOnly ? "failed" : undefined,
    environment: environmentQuery,
  };
  const rangeQuery = selection.error ? {} : selection.query;
  const environmentWords =
    list.environments === null ? "" : ` in ${list.environments.join(", ")}`;

  return (
    <>
      <PageHeader
        title="Deployments"
        description={
          <>
            {formatCount(list.total, ["deployment", "deployments"])}
            {environmentWords}
            {failedOnly
              ? ` followed by an incident within ${list.windowMinutes} min`
              : ""}
            {service ? ` of ${service.name}` : ""}
            {team ? ` of team ${team.name}` : ""}, {selection.description}
            {list.total > list.deployments.length
              ? `; the newest ${DEPLOYMENT_LIST_LIMIT} are listed`
              : ""}
          </>
        }
      />
      {selection.error && <RangeNotice message={selection.error} />}

      <div className="mb-4 flex flex-wrap items-center gap-3">
        <SegmentedLinks
          label="Outcome"
          options={[
            {
              key: "all",
              label: "All",
              href: buildHref("/deployments", {
                ...rangeQuery,
                service: service?.slug,
                team: team?.slug,
                environment: environmentQuery,
              }),
              active: !failedOnly,
            },
            {
              key: "failed",
              label: "Followed by an incident",
              href: buildHref("/deployments", {
                ...rangeQuery,
                service: service?.slug,
                team: team?.slug,
                outcome: "failed",
                environment: environmentQuery,
              }),
              active: failedOnly,
            },
          ]}
        />
        {countedEnvironments !== null && (
          <SegmentedLinks
            label="Environment"
            options={[
              {
                key: "counted",
                label: countedEnvironments.join(", "),
                href: buildHref("/deployments", { ...rangeQuery, ...keep, environment: undefined }),
                active: !everyEnvironment,
              },
              {
                key: "all",
                label: "All environments",
                href: buildHref("/deployments", { ...rangeQuery, ...keep, environment: "all" }),
                active: everyEnvironment,
              },
            ]}
          />
        )}
        <ServiceFilter
          services={services}
          selected={service?.slug}
          teams={teams}
          selectedTeam={team?.slug}
        />
        <RangePicker path="/deployments" selection={selection} keep={keep} />
      </div>

      {list.deployments.length === 0 ? (
        <EmptyState
          title="No deployments match"
          icon={<RiRocketLine className="size-6" aria-hidden />}
        >
          Deployments arrive through POST /api/v1/deployments or the GitHub
          webhook. Widen the range or the service filter to see more.
        </EmptyState>
      ) : (
        <Card className="px-2 py-0">
          <Table data-testid="deployments-table">
            <TableHead>
              <TableRow>
                <TableHeaderCell>Version</TableHeaderCell>
                <TableHeaderCell>Service</TableHeaderCell>
                <TableHeaderCell>Status</TableHeaderCell>
                <TableHeaderCell>Deployed</TableHeaderCell>
                <TableHeaderCell>Lead time</TableHeaderCell>
                <TableHeaderCell>
                  Incident within {list.windowMinutes} min
                </TableHeaderCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {list.deployments.map((deployment) => (
                <TableRow key={deployment.id} data-testid="deployment-row">
                  <TableCell className="whitespace-normal">
                    <span className="font-mono text-sm text-slate-900">
                      {deployment.version}
                    </span>
                    {deployment.commitSha && (
                      <span className="ml-2 font-mono text-xs text-slate-400">
                        {deployment.commitSha.slice(0, 7)}
                      </span>
                    )}
                    <p className="text-xs text-slate-500">
                      {deployment.environment}
                    </p>
                  </TableCell>
                  <TableCell>
                    <Link
                      href={buildHref(`/services/${deployment.serviceSlug}`, {
                        ...rangeQuery,
                      })}
                      prefetch={false}
                      className="text-slate-700 hover:text-indigo-600"
                    >
                      {deployment.serviceName}
                    </Link>
                  </TableCell>
                  <TableCell>
                    <span
                      className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_CLASSES[deployment.status] ?? STATUS_CLASSES.in_progress}`}
                    >
                      {deployment.status.replace("_", " ")}
                    </span>
                  </TableCell>
                  <TableCell>
                    <TimeWithAgo value={deployment.deployedAt} now={now} />
                  </TableCell>
                  <TableCell
                    className="tabular-nums"
                    data-testid="deployment-lead-time"
                  >
                    {deployment.leadTimeSeconds === null ? (
                      <span className="text-slate-400">no commit time</span>
                    ) : (
                      formatDuration(deployment.leadTimeSeconds * 1000)
                    )}
                  </TableCell>
                  <TableCell
                    className="whitespace-normal"
                    data-testid="deployment-incident"
                  >
                    {deployment.followingIncident ? (
                      <Link
                        href={`/incidents/${deployment.followingIncident.id}`}
                        prefetch={false}
                        className="text-rose-700 hover:text-rose-900"
                      >
                        #{deployment.followingIncident.id}{" "}
                        {deployment.followingIncident.title}
                      </Link>
                    ) : (
                      <span className="text-slate-400">none</span>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  );
}
