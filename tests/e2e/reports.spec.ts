import { readFile } from "node:fs/promises";
import path from "node:path";

import type { Download, Page } from "@playwright/test";
import { parse } from "csv-parse/sync";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

import type { KpiName } from "@/lib/kpi";
import { PERIOD_ROW_WEEK } from "@/lib/reports/csv";
import {
  formatReportKpi,
  REPORT_KPI_COLUMNS,
  REPORT_KPI_ORDER,
} from "@/lib/reports/format";

import { expect, login, test } from "./support/fixtures";

// Downloads the reliability report from the /reports page and checks its
// numbers against the overview's KPI cards for the same period and service.

type CsvRow = Record<string, string>;

async function readCards(page: Page): Promise<Record<KpiName, string>> {
  const cards = {} as Record<KpiName, string>;
  for (const name of REPORT_KPI_ORDER) {
    const value = page.getByTestId(`kpi-${name}`).getByTestId("kpi-value");
    cards[name] = (await value.innerText()).trim();
  }
  return cards;
}

async function downloadFile(page: Page, testId: string): Promise<{ download: Download; bytes: Buffer }> {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId(testId).click(),
  ]);
  const file = await download.path();
  return { download, bytes: await readFile(file) };
}

/** Formats the KPIs of a CSV row as the overview's cards show them. */
function formatRow(row: CsvRow): Record<KpiName, string> {
  const texts = {} as Record<KpiName, string>;
  for (const name of REPORT_KPI_ORDER) {
    const column = REPORT_KPI_COLUMNS[name];
    const cell = row[column.csvColumn]!;
    texts[name] = formatReportKpi(name, {
      value: cell === "" ? null : Number(cell),
      unit: "ratio",
      sampleSize: Number(row[column.csvSampleColumn]),
    });
  }
  return texts;
}

async function pdfText(bytes: Buffer): Promise<string> {
  const document = await getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: `${path.resolve("node_modules/pdfjs-dist/standard_fonts")}/`,
  }).promise;
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const content = await (await document.getPage(number)).getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
  }
  await document.destroy();
  return pages.join("\n").replace(/\s+/g, " ");
}

test("report downloads match the overview", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto("/?range=30d&service=checkout");
  await expect(page.getByText("Checkout API, last 30 days")).toBeVisible();
  const cards = await readCards(page);

  await page.getByRole("link", { name: "Reports", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Reports", exact: true })).toBeVisible();

  await page.getByRole("button", { name: /Last 7 days/ }).click();
  await page.getByRole("option", { name: "Last 30 days" }).click();
  await expect(page).toHaveURL(/range=30d/);
  await page.getByRole("button", { name: /All services/ }).click();
  await page.getByRole("option", { name: "Checkout API" }).click();
  await expect(page).toHaveURL(/services=checkout/);
  await page.keyboard.press("Escape");

  // The page's own table shows the same numbers as the overview.
  for (const name of REPORT_KPI_ORDER) {
    await expect(page.getByTestId(`report-selection-${name}`), name).toHaveText(cards[name]);
  }

  const csv = await downloadFile(page, "download-reliability-csv");
  expect(csv.download.suggestedFilename()).toMatch(/^vigil-reliability-.*\.csv$/);
  const rows = parse(csv.bytes, { columns: true, bom: true }) as CsvRow[];
  const selection = rows.find((row) => row.scope === "selection" && row.week === PERIOD_ROW_WEEK);
  const service = rows.find((row) => row.service === "checkout" && row.week === PERIOD_ROW_WEEK);
  expect(selection).toBeDefined();
  expect(service).toBeDefined();
  expect(formatRow(selection!)).toEqual(cards);
  expect(formatRow(service!)).toEqual(cards);
  // One row per ISO week of the 30 days touches 5 or 6 weeks, plus the period row.
  const weekRows = rows.filter((row) => row.service === "checkout" && row.week !== PERIOD_ROW_WEEK);
  expect(weekRows.length).toBeGreaterThanOrEqual(5);
  expect(weekRows.length).toBeLessThanOrEqual(6);

  const incidents = await downloadFile(page, "download-incidents-csv");
  const incidentRows = parse(incidents.bytes, { columns: true, bom: true }) as CsvRow[];
  expect(incidentRows.length).toBe(Number(service!.incidents_opened));
  expect(new Set(incidentRows.map((row) => row.service))).toEqual(new Set(["checkout"]));

  const pdf = await downloadFile(page, "download-pdf");
  expect(pdf.download.suggestedFilename()).toMatch(/^vigil-reliability-.*\.pdf$/);
  const text = await pdfText(pdf.bytes);
  expect(text).toContain("Reliability report");
  expect(text).toContain("Checkout API");
  for (const name of REPORT_KPI_ORDER) {
    expect(text, name).toContain(cards[name]);
  }
});

test("viewer cannot export reports", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto("/reports");
  await expect(page.getByTestId("export-forbidden")).toBeVisible();
  await expect(page.getByTestId("download-pdf")).toHaveCount(0);
  const response = await page.request.get("/api/v1/reports/reliability.pdf?range=7d");
  expect(response.status()).toBe(403);
});

test("custom period sets from and to", async ({ page, state }) => {
  await login(page, state.users.responder);
  await page.goto("/reports?range=30d");
  await page.getByRole("button", { name: /Last 30 days/ }).click();
  await page.getByRole("option", { name: "Custom dates (UTC)" }).click();
  await expect(page).toHaveURL(/from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}/);

  const url = new URL(page.url());
  const from = url.searchParams.get("from")!;
  const to = url.searchParams.get("to")!;
  // A date as `to` includes that day, so the period ends at the next midnight.
  const end = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await expect(page.getByTestId("report-period")).toContainText(`${from} 00:00 UTC to ${end} 00:00 UTC`);
  await expect(page.getByTestId("download-reliability-csv")).toHaveAttribute(
    "href",
    `/api/v1/reports/reliability.csv?from=${from}&to=${to}`,
  );
  const response = await page.request.get(`/api/v1/reports/reliability.csv?from=${from}&to=${to}`);
  expect(response.status()).toBe(200);
});

test("bad selection shows the error", async ({ page, state }) => {
  await login(page, state.users.responder);
  const cases: [string, RegExp][] = [
    ["/reports?services=%00", /services names "\\u0000", which is not a service slug/],
    ["/reports?teams=%00", /teams names "\\u0000", which is not a team slug/],
    ["/reports?from=0000-01-01&to=0000-02-01", /from must be in the years 1970 to 9999/],
  ];
  for (const [url, message] of cases) {
    const response = await page.goto(url);
    expect(response?.status(), url).toBe(200);
    await expect(page.getByText(message)).toBeVisible();
  }
});

test("24h preset covers one day", async ({ page, state }) => {
  await login(page, state.users.responder);
  await page.goto("/reports?range=24h");
  await expect(page.getByRole("button", { name: /Last 24 hours/ })).toBeVisible();
  const response = await page.request.get("/api/v1/reports/reliability.csv?range=24h");
  expect(response.status()).toBe(200);
  const rows = parse(await response.text(), { columns: true }) as CsvRow[];
  const period = rows.find((row) => row.scope === "selection" && row.week === PERIOD_ROW_WEEK)!;
  expect(Date.parse(period.end!) - Date.parse(period.start!)).toBe(86_400_000);
});
