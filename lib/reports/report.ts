import { getKpis, getKpiTrend, type KpiRange, type KpiSet } from "@/lib/kpi";
import {
  listReportIncidents,
  type ReportIncident,
} from "@/lib/reports/incidents";
import type { ReportSelection, ReportService, ReportTeam } from "@/lib/reports/selection";
import { splitIsoWeeks, type ReportWeek } from "@/lib/reports/weeks";
import { getPool } from "@/lib/db";
import { listSloAttainment, type ReportSlo } from "@/lib/slo/report";

// A reliability report: the dashboard's KPIs (lib/kpi, so both show the same
// numbers) for the period and for each ISO week of it, overall and per
// service, the SLO attainment over the period, and the incident list.

export type ReportWeekKpis = ReportWeek & { kpis: KpiSet };

export type ReportKpiScope = {
  /** null for the whole selection. */
  service: ReportService | null;
  /** KPIs over the whole period. */
  period: KpiSet;
  weeks: ReportWeekKpis[];
};

export type ReliabilityReport = {
  from: Date;
  to: Date;
  generatedAt: Date;
  services: ReportService[];
  /** The teams whose services the selection includes; absent or empty when none were named. */
  teams?: ReportTeam[];
  /** True when every service is selected. */
  allServices: boolean;
  /** The KPIs of the whole selection, as the overview dashboard computes them. */
  overall: ReportKpiScope;
  perService: ReportKpiScope[];
  incidents: ReportIncident[];
  /**
   * Attainment of the selected services' SLOs over the period
   * (lib/slo/report.ts); buildReliabilityReport always sets it.
   */
  slos?: ReportSlo[];
};

/**
 * Computes every KPI of `range` for each week. The full weeks are one
 * getKpiTrend call, because equal 7-day buckets of a Monday-to-Monday range
 * are exactly the ISO weeks. The clipped first and last weeks take one
 * getKpis call each.
 */
async function computeWeeklyKpis(
  range: KpiRange,
  weeks: ReportWeek[],
): Promise<ReportWeekKpis[]> {
  const full = weeks.filter((week) => week.full);
  const partial = weeks.filter((week) => !week.full);
  const [trend, ...partialKpis] = await Promise.all([
    full.length === 0
      ? Promise.resolve([])
      : getKpiTrend(
          { ...range, from: full[0]!.start, to: full.at(-1)!.end },
          full.length,
        ),
    ...partial.map((week) =>
      getKpis({ ...range, from: week.start, to: week.end }),
    ),
  ]);
  const byStart = new Map<number, KpiSet>();
  trend.forEach((bucket) => byStart.set(bucket.start.getTime(), bucket.kpis));
  partial.forEach((week, i) => byStart.set(week.start.getTime(), partialKpis[i]!));
  return weeks.map((week) => ({ ...week, kpis: byStart.get(week.start.getTime())! }));
}

async function computeScope(
  selection: { from: Date; to: Date },
  service: ReportService | null,
  serviceIds: number[] | undefined,
  weeks: ReportWeek[],
): Promise<ReportKpiScope> {
  const range: KpiRange = { from: selection.from, to: selection.to, serviceIds };
  const [period, weekly] = await Promise.all([
    getKpis(range),
    computeWeeklyKpis(range, weeks),
  ]);
  return { service, period, weeks: weekly };
}

/**
 * Builds the report of a selection. `now` ends the duration of incidents
 * still open and is the report's generation time.
 */
export async function buildReliabilityReport(
  selection: ReportSelection,
  now: Date = new Date(),
): Promise<ReliabilityReport> {
  const weeks = splitIsoWeeks(selection.from, selection.to);
  // The overview passes no service ids for "all services"; so does the
  // report, so that both count the same services.
  const selectedIds = selection.all
    ? undefined
    : selection.services.map((service) => service.id);

  const overall = await computeScope(selection, null, selectedIds, weeks);
  // One service at a time: each scope already sends up to 24 queries at once
  // on the shared pool.
  const perService: ReportKpiScope[] = [];
  for (const service of selection.services) {
    perService.push(await computeScope(selection, service, [service.id], weeks));
  }
  const incidents = await listReportIncidents(
    selection.from,
    selection.to,
    selectedIds,
    now,
  );
  const slos = await listSloAttainment(getPool(), selectedIds, selection.from, selection.to);

  return {
    from: selection.from,
    to: selection.to,
    generatedAt: now,
    services: selection.services,
    teams: selection.teams ?? [],
    allServices: selection.all,
    overall,
    perService,
    incidents,
    slos,
  };
}

/** Names a download after the period, such as vigil-reliability-2026-11-02-2026-11-09.csv. */
export function reportFileName(kind: string, report: ReliabilityReport, extension: string): string {
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return `vigil-${kind}-${day(report.from)}-${day(report.to)}.${extension}`;
}
