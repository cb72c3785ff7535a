import { reportRoute } from "@/lib/reports/api";
import { renderReliabilityPdf } from "@/lib/reports/pdf";

/**
 * GET /api/v1/reports/reliability.pdf: the report as a PDF, with the KPI
 * table, weekly trend charts and major incidents. Same query as
 * reliability.csv.
 */
export const GET = reportRoute("GET /api/v1/reports/reliability.pdf", "reliability", async (report) => ({
  body: await renderReliabilityPdf(report),
  contentType: "application/pdf",
  extension: "pdf",
}));
