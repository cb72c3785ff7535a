import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeaderCell,
  TableRow,
} from "@tremor/react";

import {
  formatReportKpi,
  REPORT_KPI_COLUMNS,
  REPORT_KPI_ORDER,
} from "@/lib/reports/format";
import type { ReliabilityReport } from "@/lib/reports/report";

/** KPI table of a report over its whole period: the selection, then each service. */
export function ReportKpiTable({ report }: { report: ReliabilityReport }) {
  const scopes = [report.overall, ...report.perService];
  return (
    <Table data-testid="report-kpi-table">
      <TableHead>
        <TableRow>
          <TableHeaderCell>Service</TableHeaderCell>
          {REPORT_KPI_ORDER.map((name) => (
            // Long titles wrap, so the ten columns fit a laptop screen.
            <TableHeaderCell key={name} className="whitespace-normal">
              {REPORT_KPI_COLUMNS[name].title}
            </TableHeaderCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {scopes.map((scope) => {
          const key = scope.service?.slug ?? "selection";
          return (
            <TableRow key={key} data-testid={`report-row-${key}`}>
              <TableCell className="font-medium text-slate-900">
                {scope.service?.name ?? (report.allServices ? "All services" : "Selected services")}
              </TableCell>
              {REPORT_KPI_ORDER.map((name) => (
                <TableCell key={name} className="tabular-nums" data-testid={`report-${key}-${name}`}>
                  {formatReportKpi(name, scope.period[name])}
                </TableCell>
              ))}
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
