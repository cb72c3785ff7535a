import { reportRoute } from "@/lib/reports/api";
import { renderReliabilityCsv } from "@/lib/reports/csv";

/**
 * GET /api/v1/reports/reliability.csv: every KPI per service per ISO week
 * and for the whole period. Query: range or from and to, and services.
 */
export const GET = reportRoute("GET /api/v1/reports/reliability.csv", "reliability", (report) => ({
  body: renderReliabilityCsv(report),
  contentType: "text/csv; charset=utf-8",
  extension: "csv",
}));
