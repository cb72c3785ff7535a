import { RiAlarmWarningLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";

import {
  buildHref,
  firstParam,
  formatRangeBound,
  isRangeKey,
  parseRangeBound,
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
import { RangeNotice } from "@/components/range-picker";
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

type TimeWindow = {
  from: Date;
  to: Date;
  /** Incident time that the window filters: opened_at or resolved_at. */
  by: "opened" | "resolved";
  query: { from: string; to: string; by?: "resolved" };
};

/**
 * Reads ?from= and ?to= (dates or RFC 3339 timestamps, `to` exclusive) and
 * ?by=resolved, the exact window a KPI card links to. Returns an error
 * message instead when they are incomplete or invalid.
 */
function parseTimeWindow(
  params: SearchParams,
): TimeWindow | { error: string } | null {
  const fromText = firstParam(params.from)?.trim();
  const toText = firstParam(params.to)?.trim();
  if (!fromText && !toText) return null;
  if (!fromText || !toText) {
    return { error: "The time filter needs both from and to, so it is ignored." };
  }
  const from = parseRangeBound(fromText, "from");
  const to = parseRangeBound(toText, "to");
  if (from === null || to === null) {
    const bad = from === null ? fromText : toText;
    return {
      error: `"${bad}" is not a valid date or timestamp (use YYYY-MM-DD), so the time filter is ignored.`,
    };
  }
  if (to.getTime() <= from.getTime()) {
    return {
      error: `The time filter ends (${toText}) before it starts (${fromText}), so it is ignored.`,
    };
  }
  const by = firstParam(params.by) === "resolved" ? "resolved" : "opened";
  return {
    from,
    to,
    by,
    query: {
      from: fromText,
      to: toText,
      by: by === "resolved" ? "resolved" : undefined,
    },
  };
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
  const parsedWindow = parseTimeWindow(params);
  const window =
    parsedWindow !== null && !("error" in parsedWindow) ? parsedWindow : null;
  const windowError =
    parsedWindow !== null && "error" in parsedWindow ? parsedWindow.error : null;
  const rangeParam = firstParam(params.range);
  // An exact time window replaces the preset.
  const rangeKey: RangeKey | undefined =
    !window && isRangeKey(rangeParam) ? rangeParam : undefined;
  const services = await listServiceOptions();
  const { service, team, serviceIds, teams } = await resolveDashboardFilter(
    services,
    firstParam(params.service),
    firstParam(params.team),
  );

  const now = new Date();
  // A preset filters by opening time too. With ?by=resolved it lists the
  // incidents resolved in it instead, which the MTTR card links to.
  const byResolved = firstParam(params.by) === "resolved";
  const presetWindow = rangeKey ? rangeBounds(rangeKey, now) : null;
  const incidents = await listIncidents({
    status: status === "all" ? undefined : status,
    serviceIds,
    openedFrom:
      presetWindow && !byResolved
        ? presetWindow.from
        : window?.by === "opened"
          ? window.from
          : undefined,
    openedBefore: window?.by === "opened" ? window.to : undefined,
    resolvedWithin:
      window?.by === "resolved"
        ? { from: window.from, before: window.to }
        : presetWindow && byResolved
          ? { from: presetWindow.from, before: presetWindow.to }
          : undefined,
    assigneeId:
      assignee === "me" ? user.id : assignee === "none" ? null : undefined,
  });

  const current = {
    status: status === "all" ? undefined : status,
    service: service?.slug,
    team: team?.slug,
    range: rangeKey,
    by: rangeKey && byResolved ? "resolved" : undefined,
    ...window?.query,
    assignee: assignee === "anyone" ? undefined : assignee,
  };
  const filtered = Boolean(
    current.status ||
      current.service ||
      current.team ||
      current.range ||
      window ||
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
              ? ` ${byResolved ? "resolved" : "opened"} in the ${RANGE_PRESETS[rangeKey].description}`
              : ""}
            {window
              ? ` ${window.by} from ${formatRangeBound(window.from)} to ${formatRangeBound(window.to)}`
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
      {windowError && <RangeNotice message={windowError} />}

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
              href: buildHref("/incidents", {
                ...current,
                range: undefined,
                from: undefined,
                to: undefined,
                by: undefined,
              }),
              active: !rangeKey && !window,
            },
            ...RANGE_KEYS.map((key) => ({
              key,
              label: RANGE_PRESETS[key].label,
              href: buildHref("/incidents", {
                ...current,
                range: key,
                from: undefined,
                to: undefined,
                by: undefined,
              }),
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
