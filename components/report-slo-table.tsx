import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeaderCell,
  TableRow,
} from "@tremor/react";

import type { ReportSlo } from "@/lib/slo/report";
import { formatRatio } from "@/lib/slo/format";

function metText(met: boolean | null): string {
  if (met === null) return "No data";
  return met ? "Met" : "Missed";
}

/** SLO attainment over a report's period, the same rows as the PDF's table. */
export function ReportSloTable({ slos }: { slos: ReportSlo[] }) {
  return (
    <Table data-testid="report-slo-table">
      <TableHead>
        <TableRow>
          <TableHeaderCell>Service</TableHeaderCell>
          <TableHeaderCell>SLO</TableHeaderCell>
          <TableHeaderCell>Kind</TableHeaderCell>
          <TableHeaderCell>Target</TableHeaderCell>
          <TableHeaderCell>Attainment</TableHeaderCell>
          <TableHeaderCell>Budget left</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {slos.map((slo) => (
          <TableRow key={slo.id} data-testid={`report-slo-${slo.id}`}>
            <TableCell>{slo.serviceName}</TableCell>
            <TableCell className="font-medium text-slate-900">{slo.name}</TableCell>
            <TableCell>{slo.kind}</TableCell>
            <TableCell className="tabular-nums">{formatRatio(slo.target)}</TableCell>
            <TableCell className="tabular-nums">{formatRatio(slo.attainment)}</TableCell>
            <TableCell className="tabular-nums">
              {formatRatio(slo.budgetRemainingFraction)}
            </TableCell>
            <TableCell>{metText(slo.met)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
