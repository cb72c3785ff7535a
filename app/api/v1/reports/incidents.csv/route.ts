import { reportRoute } from "@/lib/reports/api";
import { renderIncidentsCsv } from "@/lib/reports/csv";

/**
 * GET /api/v1/reports/incidents.csv: the incidents opened in the period,
 * with durations, root causes and which are major. Same query as
 * reliability.csv.
 */
export const GET = reportRoute("GET /api/v1/reports/incidents.csv", "incidents", (report, baseUrl) => ({
  body: renderIncidentsCsv(report, baseUrl),
  contentType: "text/csv; charset=utf-8",
  extension: "csv",
}));
