import PDFDocument from "pdfkit";

import type { KpiName } from "@/lib/kpi";
import {
  formatReportKpi,
  formatReportTime,
  REPORT_KPI_COLUMNS,
  REPORT_KPI_ORDER,
} from "@/lib/reports/format";
import type { ReportIncident } from "@/lib/reports/incidents";
import type { ReliabilityReport, ReportWeekKpis } from "@/lib/reports/report";
import { DAY_MS } from "@/lib/reports/weeks";
import { formatDuration } from "@/components/format";
import { formatRatio } from "@/lib/slo/format";

// The PDF of a report, drawn with pdfkit on A4: title, period, services, the
// KPI table, one weekly trend chart per KPI and the table of major incidents.
// The output is the same bytes for the same report and creation date, because
// pdfkit derives the file ID from the document info.

const MARGIN = 40;
const TEXT_COLOR = "#0f172a";
const MUTED_COLOR = "#64748b";
const GRID_COLOR = "#cbd5e1";
const HEADER_FILL = "#f1f5f9";
const CHART_COLORS: Record<KpiName, string> = {
  uptime: "#059669",
  mtta: "#7c3aed",
  mttr: "#d97706",
  incidentFrequency: "#e11d48",
  deploymentFrequency: "#4f46e5",
  errorRate: "#ea580c",
  changeFailureRate: "#c026d3",
  leadTime: "#0891b2",
};
const BAR_KPIS = new Set<KpiName>(["incidentFrequency", "deploymentFrequency"]);
const ROOT_CAUSE_MAX_CHARS = 240;
/** Most rows of the PDF's incident table, which is meant to be read in full. */
export const PDF_MAJOR_INCIDENTS_MAX = 100;

export type PdfOptions = {
  /** CreationDate of the document info; the report's generation time by default. */
  creationDate?: Date;
};

// Characters of the WinAnsi encoding outside Latin-1, which pdfkit maps for
// the standard fonts: typographic quotes, dashes, the euro sign and others.
const WIN_ANSI_EXTRA = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ";
const NOT_WIN_ANSI = new RegExp(`[^\\x20-\\x7e\\xa0-\\xff\\n${WIN_ANSI_EXTRA}]`, "gu");

/**
 * Replaces characters that the standard Helvetica font (WinAnsi encoding)
 * cannot show with "?".
 * NOTE: titles in non-Latin scripts print as "?" until a Unicode font is embedded.
 */
export function toPdfText(text: string): string {
  return text.replace(NOT_WIN_ANSI, "?");
}

function periodText(report: ReliabilityReport): string {
  const days = (report.to.getTime() - report.from.getTime()) / DAY_MS;
  const length = Number.isInteger(days) ? `${days} days` : `${days.toFixed(1)} days`;
  return `${formatReportTime(report.from)} to ${formatReportTime(report.to)} (${length})`;
}

function servicesText(report: ReliabilityReport): string {
  const names = report.services.map((service) => service.name).join(", ");
  if (report.allServices) return `All services (${report.services.length}): ${names}`;
  if (report.services.length === 0) return "None (the selected teams have no services)";
  return names;
}

function drawHeading(doc: PDFKit.PDFDocument, text: string): void {
  doc.moveDown(0.8);
  doc.font("Helvetica-Bold").fontSize(13).fillColor(TEXT_COLOR).text(text, MARGIN);
  doc.moveDown(0.3);
  doc.font("Helvetica").fontSize(9);
}

function drawKpiTable(doc: PDFKit.PDFDocument, report: ReliabilityReport): void {
  const scopes = [report.overall, ...report.perService];
  const header = ["Service", ...REPORT_KPI_ORDER.map((name) => REPORT_KPI_COLUMNS[name].title)];
  const rows = scopes.map((scope) => [
    toPdfText(scope.service?.name ?? (report.allServices ? "All services" : "Selected services")),
    ...REPORT_KPI_ORDER.map((name) => formatReportKpi(name, scope.period[name])),
  ]);
  doc.font("Helvetica").fontSize(8).fillColor(TEXT_COLOR);
  doc.table({
    columnStyles: [95, ...REPORT_KPI_ORDER.map(() => "*" as const)],
    // The header row and the whole selection's row are shaded.
    rowStyles: (row) => (row <= 1 ? { backgroundColor: HEADER_FILL } : undefined),
    defaultStyle: { padding: 3, border: 0.5, borderColor: GRID_COLOR },
    data: [header, ...rows],
  });
}

type ChartBox = { x: number; y: number; width: number; height: number };

function drawTrendChart(
  doc: PDFKit.PDFDocument,
  box: ChartBox,
  name: KpiName,
  weeks: ReportWeekKpis[],
): void {
  const column = REPORT_KPI_COLUMNS[name];
  doc.font("Helvetica-Bold").fontSize(9).fillColor(TEXT_COLOR);
  doc.text(`${column.title} by week`, box.x, box.y, { width: box.width, lineBreak: false });

  const plot = { x: box.x + 52, y: box.y + 16, width: box.width - 58, height: box.height - 34 };
  const values = weeks.map((week) => week.kpis[name].value);
  const present = values.filter((value): value is number => value !== null);
  doc.lineWidth(0.5).strokeColor(GRID_COLOR);
  doc.rect(plot.x, plot.y, plot.width, plot.height).stroke();
  doc.font("Helvetica").fontSize(7).fillColor(MUTED_COLOR);
  if (present.length === 0) {
    doc.text("No data", plot.x, plot.y + plot.height / 2 - 4, {
      width: plot.width,
      align: "center",
    });
    return;
  }

  const bar = BAR_KPIS.has(name);
  let low = bar ? 0 : Math.min(...present);
  let high = Math.max(...present);
  if (high === low) {
    high += high === 0 ? 1 : Math.abs(high) * 0.05;
    low = bar ? 0 : low - (high - low);
  }
  // Every report KPI is at least 0, and a ratio is at most 1, so the padding
  // of a flat line must not label the axis -100 % or 105 %.
  low = Math.max(0, low);
  if (weeks[0]!.kpis[name].unit === "ratio") high = Math.min(1, high);
  const yOf = (value: number) =>
    plot.y + plot.height - ((value - low) / (high - low)) * plot.height;
  const step = plot.width / weeks.length;
  const xOf = (index: number) => plot.x + step * (index + 0.5);

  doc.text(column.format(high), box.x, plot.y - 3, { width: 48, align: "right", lineBreak: false });
  doc.text(column.format(low), box.x, plot.y + plot.height - 5, {
    width: 48,
    align: "right",
    lineBreak: false,
  });
  const first = weeks[0]!.label;
  const last = weeks.at(-1)!.label;
  doc.text(first, plot.x, plot.y + plot.height + 3, { lineBreak: false });
  if (weeks.length > 1) {
    doc.text(last, plot.x, plot.y + plot.height + 3, {
      width: plot.width,
      align: "right",
      lineBreak: false,
    });
  }

  const color = CHART_COLORS[name];
  if (bar) {
    const width = Math.max(1, step * 0.6);
    values.forEach((value, i) => {
      if (value === null) return;
      const top = yOf(value);
      doc.rect(xOf(i) - width / 2, top, width, plot.y + plot.height - top).fill(color);
    });
    return;
  }
  doc.lineWidth(1.2).strokeColor(color);
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      // A week without data breaks the line instead of joining its neighbours.
      drawing = false;
      return;
    }
    if (drawing) doc.lineTo(xOf(i), yOf(value));
    else doc.moveTo(xOf(i), yOf(value));
    drawing = true;
  });
  doc.stroke();
  values.forEach((value, i) => {
    if (value !== null) doc.circle(xOf(i), yOf(value), 1.6).fill(color);
  });
}

function drawTrendCharts(doc: PDFKit.PDFDocument, report: ReliabilityReport): void {
  const width = (doc.page.width - 2 * MARGIN - 20) / 2;
  const height = 120;
  const rows = Math.ceil(REPORT_KPI_ORDER.length / 2);
  if (doc.y + rows * (height + 12) > doc.page.height - MARGIN) doc.addPage();
  const top = doc.y;
  REPORT_KPI_ORDER.forEach((name, i) => {
    const box = {
      x: MARGIN + (i % 2) * (width + 20),
      y: top + Math.floor(i / 2) * (height + 12),
      width,
      height,
    };
    drawTrendChart(doc, box, name, report.overall.weeks);
  });
  doc.x = MARGIN;
  doc.y = top + rows * (height + 12);
}

function rootCauseText(incident: ReportIncident): string {
  // Bold and code markers of the Markdown source are dropped. Underscores
  // stay, because identifiers such as created_at contain them.
  const text = incident.rootCause
    .replace(/\*\*|`/g, "")
    .replace(/\s+/g, " ")
    .trim();
  if (text === "") return "No postmortem root cause";
  return text.length > ROOT_CAUSE_MAX_CHARS
    ? `${text.slice(0, ROOT_CAUSE_MAX_CHARS - 3)}...`
    : text;
}

/**
 * Picks the major incidents the PDF lists: all of them up to
 * PDF_MAJOR_INCIDENTS_MAX, else the highest severities and, within one
 * severity, the longest. The result is in the order they opened.
 */
export function pickPdfIncidents(incidents: ReportIncident[]): ReportIncident[] {
  const major = incidents.filter((incident) => incident.major !== null);
  if (major.length <= PDF_MAJOR_INCIDENTS_MAX) return major;
  const kept = new Set(
    [...major]
      .sort(
        (a, b) =>
          a.severity.localeCompare(b.severity) ||
          b.durationSeconds - a.durationSeconds ||
          a.id - b.id,
      )
      .slice(0, PDF_MAJOR_INCIDENTS_MAX),
  );
  return major.filter((incident) => kept.has(incident));
}

function drawIncidentTable(doc: PDFKit.PDFDocument, report: ReliabilityReport): void {
  const majorCount = report.incidents.filter((incident) => incident.major !== null).length;
  const listed = pickPdfIncidents(report.incidents);
  if (listed.length === 0) {
    doc.fillColor(MUTED_COLOR).text("No incidents opened in this period.", MARGIN);
    return;
  }
  const scope =
    listed.length < majorCount
      ? `${listed.length} of the ${majorCount} major incidents (highest severity, then ` +
        `longest) among ${report.incidents.length}; the incidents CSV lists them all.`
      : `${majorCount} of ${report.incidents.length} incidents: every sev1 and sev2 ` +
        "incident, and the longest of the others.";
  doc
    .fillColor(MUTED_COLOR)
    .text(`${scope} Durations of open incidents run to the end of the period.`, MARGIN);
  doc.moveDown(0.4);
  const header = ["ID", "Service", "Title", "Sev.", "Opened", "Duration", "Root cause"];
  const rows = listed.map((incident) => [
    `#${incident.id}`,
    toPdfText(incident.serviceName),
    toPdfText(incident.title),
    incident.severity.toUpperCase(),
    formatReportTime(incident.openedAt),
    `${formatDuration(incident.durationSeconds * 1000)}${incident.ongoing ? " (open)" : ""}`,
    toPdfText(rootCauseText(incident)),
  ]);
  doc.font("Helvetica").fontSize(7.5).fillColor(TEXT_COLOR);
  doc.table({
    columnStyles: [32, 62, 100, 30, 72, 50, "*"],
    rowStyles: (row) => (row === 0 ? { backgroundColor: HEADER_FILL } : undefined),
    defaultStyle: { padding: 3, border: 0.5, borderColor: GRID_COLOR },
    data: [header, ...rows],
  });
}

function metText(met: boolean | null): string {
  if (met === null) return "no data";
  return met ? "yes" : "no";
}

/** Draws each SLO's attainment over the period against its target. */
function drawSloTable(doc: PDFKit.PDFDocument, report: ReliabilityReport): void {
  const slos = report.slos ?? [];
  if (slos.length === 0) {
    doc.fillColor(MUTED_COLOR).text("No SLOs are defined for the selected services.", MARGIN);
    return;
  }
  doc
    .fillColor(MUTED_COLOR)
    .text("Attainment over the report's period, which can differ from each SLO's own window.", MARGIN);
  doc.moveDown(0.4);
  const header = ["Service", "SLO", "Kind", "Target", "Attainment", "Budget left", "Met"];
  const rows = slos.map((slo) => [
    toPdfText(slo.serviceName),
    toPdfText(slo.name),
    slo.kind,
    formatRatio(slo.target),
    formatRatio(slo.attainment),
    formatRatio(slo.budgetRemainingFraction),
    metText(slo.met),
  ]);
  doc.font("Helvetica").fontSize(8).fillColor(TEXT_COLOR);
  doc.table({
    columnStyles: [80, "*", 110, 50, 60, 60, 40],
    rowStyles: (row) => (row === 0 ? { backgroundColor: HEADER_FILL } : undefined),
    defaultStyle: { padding: 3, border: 0.5, borderColor: GRID_COLOR },
    data: [header, ...rows],
  });
}

/** Renders the report as a PDF. */
export function renderReliabilityPdf(
  report: ReliabilityReport,
  options: PdfOptions = {},
): Promise<Buffer> {
  const creationDate = options.creationDate ?? report.generatedAt;
  const doc = new PDFDocument({
    size: "A4",
    margin: MARGIN,
    info: {
      Title: "Vigil reliability report",
      Creator: "Vigil",
      Producer: "Vigil",
      CreationDate: creationDate,
      ModDate: creationDate,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (chunk: Buffer) => chunks.push(chunk));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });

  doc.font("Helvetica-Bold").fontSize(20).fillColor(TEXT_COLOR).text("Reliability report");
  doc.moveDown(0.4);
  doc.font("Helvetica").fontSize(10);
  doc.text(`Period: ${periodText(report)}`);
  if (report.teams && report.teams.length > 0) {
    const teams = report.teams.map((team) => team.name).join(", ");
    doc.text(`Teams: ${toPdfText(teams)}`);
  }
  doc.text(`Services: ${toPdfText(servicesText(report))}`);
  doc.fillColor(MUTED_COLOR).text(`Generated ${formatReportTime(report.generatedAt)} by Vigil`);
  doc.fillColor(TEXT_COLOR);

  drawHeading(doc, "Key performance indicators");
  drawKpiTable(doc, report);
  doc.moveDown(0.4);
  doc.font("Helvetica").fontSize(8).fillColor(MUTED_COLOR).text(
    "The definitions are those of the Vigil overview.",
    MARGIN,
  );

  drawHeading(doc, "SLO attainment");
  drawSloTable(doc, report);

  drawHeading(doc, "Weekly trends (ISO weeks, UTC)");
  drawTrendCharts(doc, report);

  drawHeading(doc, "Major incidents");
  drawIncidentTable(doc, report);

  doc.end();
  return done;
}
