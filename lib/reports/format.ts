import {
  formatDuration,
  formatPercent,
  formatRate,
} from "@/components/format";
import type { KpiName, KpiValue } from "@/lib/kpi";

// How the report shows each KPI. The text of a value matches the overview's
// KPI cards (components/kpi-card.tsx), so a reader can compare them as they are.

export const REPORT_KPI_ORDER: KpiName[] = [
  "uptime",
  "mtta",
  "mttr",
  "incidentFrequency",
  "deploymentFrequency",
  "errorRate",
  "changeFailureRate",
  "leadTime",
];

export type ReportKpiColumn = {
  title: string;
  /** CSV column name, with the unit. */
  csvColumn: string;
  /** CSV column name of the sample size. */
  csvSampleColumn: string;
  format: (value: number) => string;
};

export const REPORT_KPI_COLUMNS: Record<KpiName, ReportKpiColumn> = {
  uptime: {
    title: "Uptime",
    csvColumn: "uptime_ratio",
    csvSampleColumn: "uptime_incidents",
    format: (ratio) => formatPercent(ratio, ratio >= 0.999 ? 3 : 2),
  },
  mtta: {
    title: "MTTA",
    csvColumn: "mtta_seconds",
    csvSampleColumn: "mtta_acknowledgements",
    format: (seconds) => formatDuration(seconds * 1000),
  },
  mttr: {
    title: "MTTR",
    csvColumn: "mttr_seconds",
    csvSampleColumn: "mttr_resolved_incidents",
    format: (seconds) => formatDuration(seconds * 1000),
  },
  incidentFrequency: {
    title: "Incidents per week",
    csvColumn: "incidents_per_week",
    csvSampleColumn: "incidents_opened",
    format: formatRate,
  },
  deploymentFrequency: {
    title: "Deployments per day",
    csvColumn: "deployments_per_day",
    csvSampleColumn: "deployments",
    format: formatRate,
  },
  errorRate: {
    title: "Error rate",
    csvColumn: "error_rate_ratio",
    csvSampleColumn: "requests",
    format: (ratio) => formatPercent(ratio, 3),
  },
  changeFailureRate: {
    title: "Change failure rate",
    csvColumn: "change_failure_ratio",
    csvSampleColumn: "successful_deployments",
    format: (ratio) => formatPercent(ratio, 1),
  },
  leadTime: {
    title: "Lead time for changes",
    csvColumn: "lead_time_median_seconds",
    csvSampleColumn: "deployments_with_commit_time",
    format: (seconds) => formatDuration(seconds * 1000),
  },
};

/** Formats a KPI as the overview's card shows it, "No data" for null. */
export function formatReportKpi(name: KpiName, kpi: KpiValue): string {
  return kpi.value === null ? "No data" : REPORT_KPI_COLUMNS[name].format(kpi.value);
}

/** Formats a time as "2026-11-02 08:00 UTC", the same in every time zone. */
export function formatReportTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
