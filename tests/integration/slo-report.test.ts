import path from "node:path";

import pg from "pg";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "@/lib/db";
import { foldAllPendingRollups } from "@/lib/kpi/rollups";
import { renderReliabilityPdf } from "@/lib/reports/pdf";
import { buildReliabilityReport } from "@/lib/reports/report";
import { SLO_DEFAULTS } from "@/lib/slo/definitions";
import { formatRatio } from "@/lib/slo/format";
import { measureSloFromPoints } from "@/lib/slo/measure";
import { listSloAttainment } from "@/lib/slo/report";
import { createSlo, listSlos } from "@/lib/slo/store";
import { truncateAll } from "@/tests/support/database";

// SLO attainment in the reliability report: measured over the report's
// period, equal to the count over raw points, and printed in the PDF.

const FROM = new Date("2026-11-02T00:00:00Z");
const TO = new Date("2026-11-09T00:00:00Z");
const HOUR_MS = 3_600_000;

let db: pg.Client;
let checkoutId: number;
let searchId: number;

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

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

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ('checkout', 'Checkout', 'requests', 'errors'), ('search', 'Search', NULL, NULL)
     RETURNING id`,
  );
  checkoutId = rows[0]!.id;
  searchId = rows[1]!.id;
  const series = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'requests', '{}', '{}'), ($1, 'errors', '{}', '{}') RETURNING id`,
    [checkoutId],
  );
  // Hourly points from a day before the period to a day after it: 1000
  // requests, and 3 errors in every fifth hour.
  const times: Date[] = [];
  for (let t = FROM.getTime() - 24 * HOUR_MS; t < TO.getTime() + 24 * HOUR_MS; t += HOUR_MS) {
    times.push(new Date(t + 17 * 60_000));
  }
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1::int, ts, 1000 FROM unnest($3::timestamptz[]) AS ts
     UNION ALL
     SELECT $2::int, ts, CASE WHEN extract(hour FROM ts)::int % 5 = 0 THEN 3 ELSE 0 END
     FROM unnest($3::timestamptz[]) AS ts`,
    [series.rows[0]!.id, series.rows[1]!.id, times],
  );
  await foldAllPendingRollups(db);
  const base = {
    kind: "availability" as const,
    latencyMetric: null,
    latencyThreshold: null,
    windowDays: 30,
    ...SLO_DEFAULTS,
  };
  await createSlo(db, { ...base, service: "checkout", name: "requests succeed", availabilitySource: "requests", target: 0.999 });
  await createSlo(db, { ...base, service: "search", name: "search is up", availabilitySource: "incidents", target: 0.99 });
  // Search was down for 6 hours of the period.
  await db.query(
    `INSERT INTO incident (service_id, title, status, source, dedup_key, opened_at, resolved_at)
     VALUES ($1, 'search down', 'resolved', 'manual', 'search-down', $2, $3)`,
    [searchId, new Date(FROM.getTime() + 30 * HOUR_MS), new Date(FROM.getTime() + 36 * HOUR_MS)],
  );
});

describe("SLO attainment in reports", () => {
  it("measures over the period", async () => {
    const rows = await listSloAttainment(db, undefined, FROM, TO);
    expect(rows.map((row) => row.name)).toEqual(["requests succeed", "search is up"]);

    // 168 hours, of which every fifth UTC hour (0, 5, 10, 15, 20) has 3 errors: 5 a day.
    const [checkout, search] = rows;
    expect(checkout!.total).toBe(168_000);
    expect(checkout!.bad).toBe(7 * 5 * 3);
    expect(checkout!.attainment).toBeCloseTo(1 - 105 / 168_000, 12);
    expect(checkout!.met).toBe(true);

    expect(search!.unit).toBe("seconds");
    expect(search!.bad).toBe(6 * 3600);
    expect(search!.attainment).toBeCloseTo(1 - 6 / 168, 12);
    expect(search!.met).toBe(false);
  });

  it("equals the raw point count", async () => {
    const [row] = await listSloAttainment(db, [checkoutId], FROM, TO);
    const [slo] = await listSlos(db, [checkoutId]);
    const [reference] = await measureSloFromPoints(db, slo!, [{ start: FROM, end: TO }]);
    expect(row!.total).toBe(reference!.total);
    expect(row!.bad).toBe(reference!.bad);
  });

  it("prints attainment in the PDF", async () => {
    const report = await buildReliabilityReport(
      { from: FROM, to: TO, preset: null, services: [], all: true },
      new Date("2026-11-10T00:00:00Z"),
    );
    expect(report.slos).toHaveLength(2);
    const text = await pdfText(await renderReliabilityPdf(report));
    expect(text).toContain("SLO attainment");
    expect(text).toContain("requests succeed");
    expect(text).toContain(formatRatio(report.slos![0]!.attainment));
    expect(text).toContain(formatRatio(report.slos![1]!.attainment));
  });

  it("keeps the selected services only", async () => {
    const rows = await listSloAttainment(db, [searchId], FROM, TO);
    expect(rows.map((row) => row.serviceSlug)).toEqual(["search"]);
  });
});
