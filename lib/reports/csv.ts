import { stringify } from "csv-stringify/sync";

import type { KpiSet } from "@/lib/kpi";
import { REPORT_KPI_COLUMNS, REPORT_KPI_ORDER } from "@/lib/reports/format";
import type { ReliabilityReport, ReportKpiScope } from "@/lib/reports/report";

// The two CSV files of a report, RFC 4180 with CRLF line ends. Cells that
// start with =, +, -, @, a tab or a carriage return get a leading ' (the
// escape_formulas option of csv-stringify), so that a spreadsheet does not run
// an incident title as a formula. Negative numbers are left as they are.
// Cells that contain a lone CR or LF are quoted, because many parsers end a
// record at either one, and the rest of an unquoted cell would start a row.

const CSV_OPTIONS = {
  header: true,
  record_delimiter: "windows",
  escape_formulas: true,
  quoted_match: /[\r\n]/,
} as const;

/** Value of the week column in the row that covers the whole period. */
export const PERIOD_ROW_WEEK = "period";
/** Value of the scope column: one service, or the whole selection. */
export type ReportRowScope = "service" | "selection";

const KPI_HEADERS = REPORT_KPI_ORDER.flatMap((name) => [
  REPORT_KPI_COLUMNS[name].csvColumn,
  REPORT_KPI_COLUMNS[name].csvSampleColumn,
]);

export const RELIABILITY_CSV_HEADERS = [
  "scope",
  "service",
  "service_name",
  "week",
  "start",
  "end",
  ...KPI_HEADERS,
];

function kpiCells(kpis: KpiSet): (number | string)[] {
  return REPORT_KPI_ORDER.flatMap((name) => [
    kpis[name].value ?? "",
    kpis[name].sampleSize,
  ]);
}

function scopeRows(scope: ReportKpiScope, report: ReliabilityReport) {
  const prefix = scope.service
    ? ["service", scope.service.slug, scope.service.name]
    : ["selection", "", report.allServices ? "All services" : "Selected services"];
  return [
    ...scope.weeks.map((week) => [
      ...prefix,
      week.label,
      week.start.toISOString(),
      week.end.toISOString(),
      ...kpiCells(week.kpis),
    ]),
    [
      ...prefix,
      PERIOD_ROW_WEEK,
      report.from.toISOString(),
      report.to.toISOString(),
      ...kpiCells(scope.period),
    ],
  ];
}

/**
 * Renders the KPI CSV: for each selected service one row per ISO week and
 * one for the whole period, then the same rows for the whole selection.
 * A KPI without data is an empty cell.
 */
export function renderReliabilityCsv(report: ReliabilityReport): string {
  const rows = [
    ...report.perService.flatMap((scope) => scopeRows(scope, report)),
    ...scopeRows(report.overall, report),
  ];
  return stringify(rows, { ...CSV_OPTIONS, columns: RELIABILITY_CSV_HEADERS });
}

export const INCIDENTS_CSV_HEADERS = [
  "id",
  "service",
  "service_name",
  "title",
  "severity",
  "status",
  "major",
  "opened_at",
  "acknowledged_at",
  "resolved_at",
  "duration_seconds",
  "ongoing",
  "root_cause",
  "url",
];

/**
 * Renders the incident CSV: every incident opened in the period, oldest
 * first. `major` is "severity", "duration" or empty. `baseUrl` starts the
 * link to each incident page.
 */
export function renderIncidentsCsv(
  report: ReliabilityReport,
  baseUrl: string,
): string {
  const base = baseUrl.replace(/\/+$/, "");
  const rows = report.incidents.map((incident) => [
    incident.id,
    incident.serviceSlug,
    incident.serviceName,
    incident.title,
    incident.severity,
    incident.status,
    incident.major ?? "",
    incident.openedAt.toISOString(),
    incident.acknowledgedAt?.toISOString() ?? "",
    incident.resolvedAt?.toISOString() ?? "",
    incident.durationSeconds,
    incident.ongoing ? "true" : "false",
    incident.rootCause,
    `${base}/incidents/${incident.id}`,
  ]);
  return stringify(rows, { ...CSV_OPTIONS, columns: INCIDENTS_CSV_HEADERS });
}
