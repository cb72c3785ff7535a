import { RiAlarmWarningLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";

import {
  buildHref,
  firstParam,
  isRangeKey,
  RANGE_KEYS,
  RANGE_PRESETS,
  rangeBounds,
  type RangeKey,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { AutoRefresh } from "@/components/auto-refresh";
import { EmptyState } from "@/components/empty-state";
import { IncidentTable } from "@/components/incident-table";
import { PageHeader } from "@/components/page-header";
import { formatCount } from "@/components/plural";
import { SegmentedLinks } from "@/components/segmented-links";
import { ServiceFilter } from "@/components/service-filter";
import { requireUser } from "@/lib/auth/session";
import {
  INCIDENT_LIST_LIMIT,
  listIncidents,
  type IncidentStatusFilter,
} from "@/lib/incidents/queries";
import { listServiceOptions } from "@/lib/services/queries";
import { resolveDashboardFilter } from "@/lib/teams/filter";

export const metadata: Metadata = { title: "Incidents" };

const STATUS_OPTIONS: { key: IncidentStatusFilter | "all"; label: string }[] = [
  { key: "all", label: "All" },
  { key: "open", label: "Open" },
  { key: "triggered", label: "Triggered" },
  { key: "acknowledged", label: "Acknowledged" },
  { key: "resolved", label: "Resolved" },
];

function parseStatus(value: string | undefined): IncidentStatusFilter | "all" {
  return STATUS_OPTIONS.find((option) => option.key === value)?.key ?? "all";
}

type AssigneeFilter = "anyone" | "me" | "none";

const ASSIGNEE_OPTIONS: { key: AssigneeFilter; label: string }[] = [
  { key: "anyone", label: "Anyone" },
  { key: "me", label: "Me" },
  { key: "none", label: "Unassigned" },
];

function parseAssignee(value: string | undefined): AssigneeFilter {
  return ASSIGNEE_OPTIONS.find((option) => option.key === value)?.key ?? "anyone";
}

export default async function IncidentsPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  const user = await requireUser();
  const params = await searchParams;
  const status = parseStatus(firstParam(params.status));
  const assignee = parseAssignee(firstParam(params.assignee));
  const rangeParam = firstParam(params.range);
  const rangeKey: RangeKey | undefined = isRangeKey(rangeParam)
    ? rangeParam
    : undefined;
  const services = await listServiceOptions();
  const { service, team, serviceIds, teams } = await resolveDashboardFilter(
    services,
    firstParam(params.service),
    firstParam(params.team),
  );

  const now = new Date();
  const incidents = await listIncidents({
    status: status === "all" ? undefined : status,
    serviceIds,
    openedFrom: rangeKey ? rangeBounds(rangeKey, now).from : undefined,
    assigneeId:
      assignee === "me" ? user.id : assignee === "none" ? null : undefined,
  });

  const current = {
    status: status === "all" ? undefined : status,
    service: service?.slug,
    team: team?.slug,
    range: rangeKey,
    assignee: assignee === "anyone" ? undefined : assignee,
  };
  const filtered = Boolean(
    current.status ||
      current.service ||
      current.team ||
      current.range ||
      current.assignee,
  );

  return (
    <>
      <PageHeader
        title="Incidents"
        description={
          <>
            {incidents.length === INCIDENT_LIST_LIMIT
              ? `The newest ${INCIDENT_LIST_LIMIT} incidents`
              : formatCount(incidents.length, ["incident", "incidents"])}
            {rangeKey
              ? ` opened in the ${RANGE_PRESETS[rangeKey].description}`
              : ""}
            {service ? ` of ${service.name}` : ""}
            {team ? ` of team ${team.name}` : ""}
            {incidents.length === INCIDENT_LIST_LIMIT
              ? "; narrow the filters to see older ones"
              : ", newest first"}
          </>
        }
        actions={<AutoRefresh />}
      />

      <div className="mb-4 flex flex-wrap items-center gap-3">
        <SegmentedLinks
          label="Status"
          options={STATUS_OPTIONS.map((option) => ({
            key: option.key,
            label: option.label,
            href: buildHref("/incidents", {
              ...current,
              status: option.key === "all" ? undefined : option.key,
            }),
            active: option.key === status,
          }))}
        />
        <SegmentedLinks
          label="Assignee"
          options={ASSIGNEE_OPTIONS.map((option) => ({
            key: option.key,
            label: option.label,
            href: buildHref("/incidents", {
              ...current,
              assignee: option.key === "anyone" ? undefined : option.key,
            }),
            active: option.key === assignee,
          }))}
        />
        <ServiceFilter
          services={services}
          selected={service?.slug}
          teams={teams}
          selectedTeam={team?.slug}
        />
        <SegmentedLinks
          label="Opened within"
          options={[
            {
              key: "any",
              label: "Any time",
              href: buildHref("/incidents", { ...current, range: undefined }),
              active: !rangeKey,
            },
            ...RANGE_KEYS.map((key) => ({
              key,
              label: RANGE_PRESETS[key].label,
              href: buildHref("/incidents", { ...current, range: key }),
              active: key === rangeKey,
            })),
          ]}
        />
      </div>

      {incidents.length === 0 ? (
        <EmptyState
          title={
            filtered ? "No incidents match these filters" : "No incidents yet"
          }
          icon={<RiAlarmWarningLine className="size-6" aria-hidden />}
        >
          {filtered
            ? "Widen the status, assignee, service or time filters to see more."
            : "The detector opens an incident when a series' anomaly score crosses its model's threshold."}
        </EmptyState>
      ) : (
        <Card className="px-2 py-0">
          <IncidentTable incidents={incidents} now={now} />
        </Card>
      )}
    </>
  );
}
