import path from "node:path";

import { parse } from "csv-parse/sync";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { describe, expect, it } from "vitest";

import type { KpiSet } from "@/lib/kpi";
import { renderIncidentsCsv, renderReliabilityCsv } from "@/lib/reports/csv";
import type { ReportIncident } from "@/lib/reports/incidents";
import {
  PDF_MAJOR_INCIDENTS_MAX,
  pickPdfIncidents,
  renderReliabilityPdf,
  toPdfText,
} from "@/lib/reports/pdf";
import type { ReliabilityReport } from "@/lib/reports/report";
import { splitIsoWeeks } from "@/lib/reports/weeks";

// CSV and PDF rendering of a hand-built report, without a database.

const FROM = new Date("2026-11-02T00:00:00Z");
const TO = new Date("2026-11-16T00:00:00Z");

function kpis(uptime: number | null): KpiSet {
  return {
    uptime: { value: uptime, unit: "ratio", sampleSize: 1 },
    mtta: { value: null, unit: "seconds", sampleSize: 0, reason: "none" },
    mttr: { value: 5400, unit: "seconds", sampleSize: 1 },
    incidentFrequency: { value: 0.5, unit: "per_week", sampleSize: 1 },
    deploymentFrequency: { value: 0, unit: "per_day", sampleSize: 0 },
    errorRate: { value: 0.00123, unit: "ratio", sampleSize: 50_000 },
    changeFailureRate: { value: 0.25, unit: "ratio", sampleSize: 4 },
    leadTime: { value: 7200, unit: "seconds", sampleSize: 3 },
  };
}

function incident(id: number, title: string, rootCause: string): ReportIncident {
  return {
    id,
    serviceSlug: "api",
    serviceName: "API",
    title,
    severity: "sev1",
    status: "resolved",
    openedAt: new Date("2026-11-03T10:00:00Z"),
    acknowledgedAt: null,
    resolvedAt: new Date("2026-11-03T11:30:00Z"),
    durationSeconds: 5400,
    ongoing: false,
    rootCause,
    major: "severity",
  };
}

function report(incidents: ReportIncident[]): ReliabilityReport {
  const weeks = splitIsoWeeks(FROM, TO).map((week, i) => ({
    ...week,
    kpis: kpis(i === 0 ? 0.99 : null),
  }));
  const service = { id: 1, slug: "api", name: "API" };
  return {
    from: FROM,
    to: TO,
    generatedAt: new Date("2026-11-20T00:00:00Z"),
    services: [service],
    allServices: true,
    overall: { service: null, period: kpis(0.995), weeks },
    perService: [{ service, period: kpis(0.995), weeks }],
    incidents,
  };
}

/**
 * Splits CSV text into records at every CR, LF or CRLF outside double quotes,
 * as Python's csv module and most spreadsheets read it.
 */
function splitRecordsLikeSpreadsheets(text: string): string[] {
  const records: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    if (!quoted && (char === "\r" || char === "\n")) {
      if (char === "\r" && text[i + 1] === "\n") i += 1;
      records.push(current);
      current = "";
      continue;
    }
    current += char;
  }
  if (current !== "") records.push(current);
  return records;
}

describe("report CSV", () => {
  it("escapes formula prefixes", () => {
    const titles = ["=1+1", "+cmd", "-cmd", "@SUM(A1)", "\tindent", "plain - text"];
    const text = renderIncidentsCsv(
      report(titles.map((title, i) => incident(i + 1, title, ""))),
      "http://127.0.0.1:3000",
    );
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.title)).toEqual([
      "'=1+1",
      "'+cmd",
      "'-cmd",
      "'@SUM(A1)",
      "'\tindent",
      "plain - text",
    ]);
  });

  it("quotes cells with CR or LF", () => {
    const titles = ["x\r=2+5", "y\n+cmd", "\r=1+2"];
    const text = renderIncidentsCsv(
      report(titles.map((title, i) => incident(i + 1, title, "z\r\n@SUM(A1)"))),
      "http://127.0.0.1:3000",
    );
    const records = splitRecordsLikeSpreadsheets(text);
    expect(records).toHaveLength(titles.length + 1);
    for (const record of records) {
      expect(record).not.toMatch(/^[=+\-@]/);
    }
    expect(text).toContain('"x\r=2+5"');
    expect(text).toContain(`"'\r=1+2"`);
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.title)).toEqual(["x\r=2+5", "y\n+cmd", "'\r=1+2"]);
    expect(rows[0]?.root_cause).toBe("z\r\n@SUM(A1)");
  });

  it("quotes a service name with CR", () => {
    const base = report([]);
    const service = { id: 1, slug: "api", name: "\r=1+2" };
    const text = renderReliabilityCsv({
      ...base,
      services: [service],
      perService: base.perService.map((scope) => ({ ...scope, service })),
    });
    for (const record of splitRecordsLikeSpreadsheets(text)) {
      expect(record).not.toMatch(/^[=+\-@]/);
    }
    expect(text).toContain(`"'\r=1+2"`);
  });

  it("ends records with CRLF", () => {
    const text = renderReliabilityCsv(report([]));
    expect(text.split("\r\n")).toHaveLength(2 * 3 + 2);
    expect(text.endsWith("\r\n")).toBe(true);
  });

  it("leaves missing KPIs empty", () => {
    const rows = parse(renderReliabilityCsv(report([])), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows[0]!.week).toBe("2026-W45");
    expect(rows[0]!.uptime_ratio).toBe("0.99");
    expect(rows[1]!.uptime_ratio).toBe("");
    expect(rows[1]!.mtta_seconds).toBe("");
    expect(rows[1]!.mtta_acknowledgements).toBe("0");
    expect(rows[2]!.week).toBe("period");
    expect(rows[5]!.scope).toBe("selection");
  });

  it("has the change and lead time columns", () => {
    const rows = parse(renderReliabilityCsv(report([])), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows[0]!.change_failure_ratio).toBe("0.25");
    expect(rows[0]!.successful_deployments).toBe("4");
    expect(rows[0]!.lead_time_median_seconds).toBe("7200");
    expect(rows[0]!.deployments_with_commit_time).toBe("3");
  });
});

/** Extracts the text of every page of a PDF, joined by spaces. */
async function pdfText(bytes: Uint8Array | Buffer): Promise<string> {
  const document = await getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: `${path.resolve("node_modules/pdfjs-dist/standard_fonts")}/`,
  }).promise;
  const texts: string[] = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const content = await (await document.getPage(number)).getTextContent();
    texts.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
  }
  await document.destroy();
  return texts.join(" ");
}

describe("report PDF", () => {
  it("replaces characters outside WinAnsi", () => {
    expect(toPdfText("Zahlung – “fehlgeschlagen” €5")).toBe("Zahlung – “fehlgeschlagen” €5");
    expect(toPdfText("支付 😀")).toBe("?? ?");
  });

  it("keeps flat ratio axes within 0 to 100 %", async () => {
    const flat = report([]);
    const weeks = flat.overall.weeks.map((week) => ({
      ...week,
      kpis: {
        ...week.kpis,
        uptime: { value: 1, unit: "ratio", sampleSize: 1 },
        changeFailureRate: { value: 0, unit: "ratio", sampleSize: 4 },
      } as KpiSet,
    }));
    const text = await pdfText(
      await renderReliabilityPdf({ ...flat, overall: { ...flat.overall, weeks } }),
    );
    expect(text).not.toContain("-100 %");
    expect(text).not.toContain("105 %");
    expect(text).toContain("Change failure rate by week");
  });

  it("prints non-Latin titles as question marks", async () => {
    const bytes = await renderReliabilityPdf(
      report([incident(7, "Zahlung – 支付 failed", "Pool “too small”")]),
    );
    const document = await getDocument({
      data: new Uint8Array(bytes),
      standardFontDataUrl: `${path.resolve("node_modules/pdfjs-dist/standard_fonts")}/`,
    }).promise;
    const texts: string[] = [];
    for (let number = 1; number <= document.numPages; number += 1) {
      const content = await (await document.getPage(number)).getTextContent();
      texts.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
    }
    await document.destroy();
    const text = texts.join(" ");
    expect(text).toContain("Zahlung – ?? failed");
    expect(text).toContain("Pool “too small”");
    expect(text).toContain("99.5 %");
    expect(text).toContain("1 h 30 min");
  });
});

describe("PDF incident list", () => {
  it("keeps the severest and longest", () => {
    const incidents = Array.from({ length: PDF_MAJOR_INCIDENTS_MAX + 20 }, (_, i) => ({
      ...incident(i + 1, `incident ${i + 1}`, ""),
      severity: i < 10 ? ("sev1" as const) : ("sev2" as const),
      durationSeconds: 60 * (i + 1),
    }));
    const picked = pickPdfIncidents(incidents);
    expect(picked).toHaveLength(PDF_MAJOR_INCIDENTS_MAX);
    // The 10 sev1 incidents are kept, however short.
    expect(picked.slice(0, 10).map((item) => item.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Of the sev2 incidents, the 20 shortest are left out.
    expect(picked[10]!.id).toBe(31);
    expect(picked.at(-1)!.id).toBe(PDF_MAJOR_INCIDENTS_MAX + 20);
  });

  it("keeps every incident below the limit", () => {
    const incidents = [incident(1, "a", ""), { ...incident(2, "b", ""), major: null }];
    expect(pickPdfIncidents(incidents).map((item) => item.id)).toEqual([1]);
  });
});
