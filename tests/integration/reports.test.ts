import path from "node:path";

import { parse } from "csv-parse/sync";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The session cookie is encrypted with NEXTAUTH_SECRET, which the config
// reads once, so it is set before any Vigil module loads.
const SESSION_SECRET = vi.hoisted(() => {
  const secret = "reports-test-secret-0123456789abcdef";
  process.env.NEXTAUTH_SECRET = secret;
  return secret;
});

import { GET as getIncidentsCsv } from "@/app/api/v1/reports/incidents.csv/route";
import { GET as getReliabilityCsv } from "@/app/api/v1/reports/reliability.csv/route";
import { GET as getReliabilityPdf } from "@/app/api/v1/reports/reliability.pdf/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { getKpis, type KpiName, type KpiSet } from "@/lib/kpi";
import {
  INCIDENTS_CSV_HEADERS,
  PERIOD_ROW_WEEK,
  RELIABILITY_CSV_HEADERS,
  renderIncidentsCsv,
  renderReliabilityCsv,
} from "@/lib/reports/csv";
import {
  formatReportKpi,
  REPORT_KPI_COLUMNS,
  REPORT_KPI_ORDER,
} from "@/lib/reports/format";
import { REPORT_INCIDENTS_MAX } from "@/lib/reports/incidents";
import { buildReliabilityReport } from "@/lib/reports/report";
import { renderReliabilityPdf } from "@/lib/reports/pdf";
import { resolveReportSelection } from "@/lib/reports/selection";
import { truncateAll } from "@/tests/support/database";
import { sessionCookieFor, type RouteHandler } from "@/tests/support/route-calls";

// Reliability reports against the real database: the CSV numbers equal
// getKpis for the same service and week, the PDF text shows the same
// numbers as the overview would, and bad requests are rejected with the
// parameter named. The period runs from a Wednesday to a Wednesday, so it
// has a clipped first and last ISO week and two full ones.

const FROM = "2026-10-28T12:00:00Z";
const TO = "2026-11-18T06:00:00Z";
const NOW = new Date("2026-11-20T00:00:00Z");
const BASE = "http://127.0.0.1:3330";
const HOUR_MS = 3_600_000;

type Fixture = {
  adminToken: string;
  ingestToken: string;
  boundToken: string;
  responderCookie: string;
  viewerCookie: string;
  incidents: Record<string, number>;
};

let fixture: Fixture;
let dedup = 0;

async function insertService(slug: string, metrics: boolean): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ($1, $2, $3, $4) RETURNING id`,
    [slug, `Service ${slug}`, metrics ? "requests" : null, metrics ? "errors" : null],
  );
  return rows[0]!.id;
}

async function insertUser(email: string, name: string, role: string) {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ($1, $2, '-', $3) RETURNING id`,
    [email, name, role],
  );
  return { id: rows[0]!.id, name };
}

type IncidentSeed = {
  title: string;
  severity: string;
  openedAt: string;
  acknowledgedAfterMin?: number;
  resolvedAfterMin?: number;
  rootCause?: string;
};

async function insertIncident(serviceId: number, seed: IncidentSeed): Promise<number> {
  dedup += 1;
  const openedAt = new Date(seed.openedAt);
  const ackAt =
    seed.acknowledgedAfterMin === undefined
      ? null
      : new Date(openedAt.getTime() + seed.acknowledgedAfterMin * 60_000);
  const resolvedAt =
    seed.resolvedAfterMin === undefined
      ? null
      : new Date(openedAt.getTime() + seed.resolvedAfterMin * 60_000);
  let status = "triggered";
  if (ackAt) status = "acknowledged";
  if (resolvedAt) status = "resolved";

  const pool = getPool();
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source, dedup_key,
       opened_at, acknowledged_at, resolved_at)
     VALUES ($1, $2, $3, $4, 'manual', $5, $6, $7, $8) RETURNING id`,
    [serviceId, seed.title, status, seed.severity, `report-${dedup}`, openedAt, ackAt, resolvedAt],
  );
  const id = rows[0]!.id;

  const events: [string, Date | null][] = [
    ["opened", openedAt],
    ["acknowledged", ackAt],
    ["resolved", resolvedAt],
  ];
  for (const [kind, at] of events) {
    if (!at) continue;
    await pool.query(
      `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, created_at)
       VALUES ($1, $2, 'user', 'Alice', $2, $3)`,
      [id, kind, at],
    );
  }

  if (seed.rootCause !== undefined) {
    await pool.query(
      `INSERT INTO incident_postmortem (incident_id, root_cause, updated_by_type, updated_by_name)
       VALUES ($1, $2, 'user', 'Alice')`,
      [id, seed.rootCause],
    );
  }
  return id;
}

/** Inserts deployments; every other one carries a commit (i + 1) hours earlier. */
async function insertDeployments(serviceId: number, times: string[]): Promise<void> {
  for (const [i, time] of times.entries()) {
    const deployedAt = new Date(time);
    const commitAt =
      i % 2 === 0 ? new Date(deployedAt.getTime() - (i + 1) * 3_600_000) : null;
    await getPool().query(
      `INSERT INTO deployment (service_id, version, deployed_at, commit_at)
       VALUES ($1, $2, $3, $4)`,
      [serviceId, `v1.${i}`, deployedAt, commitAt],
    );
  }
}

/** Writes hourly request and error counts from 2026-10-26 to 2026-11-21. */
async function insertCounters(serviceId: number): Promise<void> {
  const pool = getPool();
  const ids: Record<string, number> = {};
  for (const name of ["requests", "errors"]) {
    const { rows } = await pool.query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, $2, '{}', '{}') RETURNING id`,
      [serviceId, name],
    );
    ids[name] = rows[0]!.id;
  }
  const start = Date.parse("2026-10-26T00:00:00Z");
  const end = Date.parse("2026-11-21T00:00:00Z");
  const times: Date[] = [];
  const requests: number[] = [];
  const errors: number[] = [];
  for (let t = start, i = 0; t < end; t += HOUR_MS, i += 1) {
    times.push(new Date(t));
    requests.push(1000 + (i % 24) * 10);
    // Errors rise during the second week so that the weekly error rate varies.
    errors.push(t >= Date.parse("2026-11-04T00:00:00Z") && t < Date.parse("2026-11-06T00:00:00Z") ? 40 : i % 3);
  }
  for (const [name, values] of [
    ["requests", requests],
    ["errors", errors],
  ] as const) {
    await pool.query(
      `INSERT INTO data_point (series_id, ts, value)
       SELECT $1, unnest($2::timestamptz[]), unnest($3::float8[])`,
      [ids[name], times, values],
    );
  }
}

async function seed(): Promise<Fixture> {
  const checkout = await insertService("checkout-api", true);
  const orders = await insertService("orders-db", false);
  const edge = await insertService("edge-gateway", false);
  await insertCounters(checkout);

  const incidents: Record<string, number> = {};
  incidents.outage = await insertIncident(checkout, {
    title: "Checkout returns 502",
    severity: "sev1",
    openedAt: "2026-11-04T10:00:00Z",
    acknowledgedAfterMin: 4,
    resolvedAfterMin: 95,
    rootCause: "A connection pool of **8** was too small for the `checkout` load.",
  });
  incidents.formula = await insertIncident(checkout, {
    title: "=HYPERLINK(\"http://127.0.0.1/x\",\"click\")",
    severity: "sev3",
    openedAt: "2026-10-29T08:00:00Z",
    acknowledgedAfterMin: 10,
    resolvedAfterMin: 30,
  });
  incidents.slow = await insertIncident(orders, {
    title: "Slow queries on orders",
    severity: "sev2",
    openedAt: "2026-11-10T22:30:00Z",
    acknowledgedAfterMin: 20,
    resolvedAfterMin: 300,
    rootCause: "Missing index on orders.created_at",
  });
  incidents.minor = await insertIncident(orders, {
    title: "Replica lag",
    severity: "sev4",
    openedAt: "2026-11-17T01:00:00Z",
  });
  incidents.outside = await insertIncident(checkout, {
    title: "Before the period",
    severity: "sev1",
    openedAt: "2026-10-20T00:00:00Z",
    resolvedAfterMin: 10,
  });
  incidents.unselected = await insertIncident(edge, {
    title: "Edge incident",
    severity: "sev1",
    openedAt: "2026-11-05T00:00:00Z",
    resolvedAfterMin: 60,
  });
  await insertDeployments(checkout, [
    "2026-10-27T09:00:00Z",
    "2026-10-29T09:00:00Z",
    "2026-11-03T09:00:00Z",
    "2026-11-04T09:55:00Z",
    "2026-11-12T15:00:00Z",
    "2026-11-17T11:00:00Z",
  ]);
  await insertDeployments(orders, ["2026-11-10T20:00:00Z", "2026-11-19T00:00:00Z"]);

  const responder = await insertUser("responder@example.test", "Rita", "responder");
  const viewer = await insertUser("viewer@example.test", "Vic", "viewer");
  return {
    adminToken: (await createApiToken({ name: "reports admin", scope: "admin" })).token,
    ingestToken: (await createApiToken({ name: "reports ingest", scope: "ingest" })).token,
    boundToken: (await createApiToken({ name: "orders admin", scope: "admin", serviceId: orders }))
      .token,
    responderCookie: await sessionCookieFor(responder, SESSION_SECRET),
    viewerCookie: await sessionCookieFor(viewer, SESSION_SECRET),
    incidents,
  };
}

const SELECTED = "checkout-api,orders-db";

async function selectedReport() {
  const selection = await resolveReportSelection({ from: FROM, to: TO, services: SELECTED }, NOW);
  return buildReliabilityReport(selection, NOW);
}

function csvRecords(text: string): Record<string, string>[] {
  return parse(text, { columns: true, bom: true }) as Record<string, string>[];
}

/** Checks that the cells of a CSV row carry the values of `kpis`. */
function expectRowMatches(row: Record<string, string>, kpis: KpiSet, where: string) {
  for (const name of REPORT_KPI_ORDER) {
    const column = REPORT_KPI_COLUMNS[name];
    const kpi = kpis[name];
    const cell = row[column.csvColumn];
    if (kpi.value === null) {
      expect(cell, `${where} ${column.csvColumn}`).toBe("");
    } else {
      expect(Number(cell), `${where} ${column.csvColumn}`).toBe(kpi.value);
    }
    expect(Number(row[column.csvSampleColumn]), `${where} ${column.csvSampleColumn}`).toBe(
      kpi.sampleSize,
    );
  }
}

async function pdfText(bytes: Buffer): Promise<string> {
  const document = await getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: `${path.resolve("node_modules/pdfjs-dist/standard_fonts")}/`,
  }).promise;
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number += 1) {
    const page = await document.getPage(number);
    const content = await page.getTextContent();
    pages.push(content.items.map((item) => ("str" in item ? item.str : "")).join(" "));
  }
  await document.destroy();
  return pages.join("\n").replace(/\s+/g, " ");
}

async function download(
  handler: RouteHandler,
  query: string,
  auth: { token?: string; cookie?: string },
) {
  const headers: Record<string, string> = {};
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await handler(new Request(`${BASE}/api/v1/reports/x?${query}`, { headers }));
  const isJson = (response.headers.get("content-type") ?? "").startsWith("application/json");
  return {
    status: response.status,
    headers: response.headers,
    json: isJson ? ((await response.json()) as { error: { field?: string; message: string } }) : null,
    bytes: isJson ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer()),
  };
}

beforeAll(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  fixture = await seed();
});

afterAll(async () => {
  await closeDb();
});

describe("reliability CSV", () => {
  it("has the lead time of the selection", async () => {
    const rows = csvRecords(renderReliabilityCsv(await selectedReport()));
    const period = rows.find(
      (row) => row.scope === "selection" && row.week === PERIOD_ROW_WEEK,
    )!;

    // Deployments in the period with a commit time: checkout-api 3 h and
    // 5 h after their commits, orders-db 1 h. The median is 3 h.
    expect(period.lead_time_median_seconds).toBe("10800");
    expect(period.deployments_with_commit_time).toBe("3");
    // Six successful deployments of the selection lie in the period.
    expect(period.successful_deployments).toBe("6");
  });

  it("matches getKpis per service and week", async () => {
    const report = await selectedReport();
    const rows = csvRecords(renderReliabilityCsv(report));

    expect(Object.keys(rows[0]!)).toEqual(RELIABILITY_CSV_HEADERS);
    const weekLabels = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"];
    // Four weeks and the period row, for two services and the selection.
    expect(rows).toHaveLength(3 * (weekLabels.length + 1));

    const services = [
      { slug: "checkout-api", scope: "service" },
      { slug: "orders-db", scope: "service" },
      { slug: "", scope: "selection" },
    ];
    const ids = report.services.map((service) => service.id);
    for (const service of services) {
      const serviceRows = rows.filter(
        (row) => row.scope === service.scope && row.service === service.slug,
      );
      expect(serviceRows.map((row) => row.week)).toEqual([...weekLabels, PERIOD_ROW_WEEK]);
      const serviceIds =
        service.scope === "selection"
          ? ids
          : [report.services.find((item) => item.slug === service.slug)!.id];
      for (const row of serviceRows) {
        const kpis = await getKpis({
          from: new Date(row.start!),
          to: new Date(row.end!),
          serviceIds,
        });
        expectRowMatches(row, kpis, `${service.slug || "selection"} ${row.week}`);
      }
    }
  });

  it("clips the first and last week", async () => {
    const rows = csvRecords(renderReliabilityCsv(await selectedReport()));
    const checkout = rows.filter((row) => row.service === "checkout-api");
    expect(checkout[0]!.start).toBe("2026-10-28T12:00:00.000Z");
    expect(checkout[0]!.end).toBe("2026-11-02T00:00:00.000Z");
    expect(checkout[1]!.start).toBe("2026-11-02T00:00:00.000Z");
    expect(checkout[1]!.end).toBe("2026-11-09T00:00:00.000Z");
    expect(checkout[3]!.start).toBe("2026-11-16T00:00:00.000Z");
    expect(checkout[3]!.end).toBe("2026-11-18T06:00:00.000Z");
  });

  it("has the expected hand-counted values", async () => {
    const rows = csvRecords(renderReliabilityCsv(await selectedReport()));
    const period = (slug: string) =>
      rows.find((row) => row.service === slug && row.week === PERIOD_ROW_WEEK)!;
    // checkout-api: 5 of its 6 deployments and 2 of its 3 incidents lie in the period.
    expect(period("checkout-api").deployments).toBe("5");
    expect(period("checkout-api").incidents_opened).toBe("2");
    // MTTR of checkout-api: (95 min + 30 min) / 2.
    expect(Number(period("checkout-api").mttr_seconds)).toBe(62.5 * 60);
    // MTTA of orders-db: only the sev2 incident was acknowledged, after 20 min.
    expect(Number(period("orders-db").mtta_seconds)).toBe(20 * 60);
    // orders-db names no counters, so it has no error rate.
    expect(period("orders-db").error_rate_ratio).toBe("");
    expect(Number(period("checkout-api").error_rate_ratio)).toBeGreaterThan(0);
  });

  it("counts every service with no services", async () => {
    const selection = await resolveReportSelection({ from: FROM, to: TO }, NOW);
    const report = await buildReliabilityReport(selection, NOW);
    const rows = csvRecords(renderReliabilityCsv(report));
    const overall = rows.find((row) => row.scope === "selection" && row.week === PERIOD_ROW_WEEK)!;
    expect(overall.service_name).toBe("All services");
    const kpis = await getKpis({ from: new Date(FROM), to: new Date(TO) });
    expectRowMatches(overall, kpis, "all services");
    expect(overall.incidents_opened).toBe("5");
  });
});

describe("incident CSV", () => {
  it("lists the incidents of the selection", async () => {
    const report = await selectedReport();
    const rows = csvRecords(renderIncidentsCsv(report, "http://vigil.example.test/"));
    expect(Object.keys(rows[0]!)).toEqual(INCIDENTS_CSV_HEADERS);
    const { incidents } = fixture;
    expect(rows.map((row) => Number(row.id))).toEqual([
      incidents.formula,
      incidents.outage,
      incidents.slow,
      incidents.minor,
    ]);

    for (const scope of report.perService) {
      const count = rows.filter((row) => row.service === scope.service!.slug).length;
      expect(count, scope.service!.slug).toBe(scope.period.incidentFrequency.sampleSize);
    }

    const outage = rows.find((row) => Number(row.id) === incidents.outage)!;
    expect(outage.major).toBe("severity");
    expect(Number(outage.duration_seconds)).toBe(95 * 60);
    expect(outage.root_cause).toBe(
      "A connection pool of **8** was too small for the `checkout` load.",
    );
    expect(outage.url).toBe(`http://vigil.example.test/incidents/${incidents.outage}`);

    // Replica lag is still open: it lasts until the end of the period.
    const minor = rows.find((row) => Number(row.id) === incidents.minor)!;
    expect(minor.ongoing).toBe("true");
    expect(Number(minor.duration_seconds)).toBe(
      (Date.parse(TO) - Date.parse("2026-11-17T01:00:00Z")) / 1000,
    );
    expect(minor.major).toBe("duration");
  });

  it("escapes formula cells", async () => {
    const text = renderIncidentsCsv(await selectedReport(), BASE);
    const rows = csvRecords(text);
    const formula = rows.find((row) => Number(row.id) === fixture.incidents.formula)!;
    expect(formula.title).toBe("'=HYPERLINK(\"http://127.0.0.1/x\",\"click\")");
    expect(text).not.toMatch(/,=HYPERLINK/);
  });
});

describe("reliability PDF", () => {
  it("shows the KPIs and major incidents", async () => {
    const report = await selectedReport();
    const text = await pdfText(await renderReliabilityPdf(report));

    expect(text).toContain("Reliability report");
    expect(text).toContain("2026-10-28 12:00 UTC to 2026-11-18 06:00 UTC");
    expect(text).toContain("Service checkout-api, Service orders-db");
    for (const scope of [report.overall, ...report.perService]) {
      const kpis = await getKpis({
        from: report.from,
        to: report.to,
        serviceIds: scope.service ? [scope.service.id] : report.services.map((s) => s.id),
      });
      for (const name of REPORT_KPI_ORDER) {
        expect(text, `${scope.service?.slug ?? "selection"} ${name}`).toContain(
          formatReportKpi(name as KpiName, kpis[name]),
        );
      }
    }
    expect(text).toContain(`#${fixture.incidents.outage}`);
    expect(text).toContain("1 h 35 min");
    expect(text).toContain("Missing index on orders.created_at");
    expect(text).toContain("A connection pool of 8 was too small for the checkout load.");
    expect(text).toContain("No SLOs are defined for the selected services.");
    expect(text).not.toContain("Edge incident");
  });

  it("draws a chart per KPI", async () => {
    const text = await pdfText(await renderReliabilityPdf(await selectedReport()));
    for (const name of REPORT_KPI_ORDER) {
      expect(text).toContain(`${REPORT_KPI_COLUMNS[name].title} by week`);
    }
    expect(text).toContain("2026-W44");
    expect(text).toContain("2026-W47");
  });

  it("renders the same bytes twice", async () => {
    const report = await selectedReport();
    const creationDate = new Date("2026-11-20T00:00:00Z");
    const first = await renderReliabilityPdf(report, { creationDate });
    const second = await renderReliabilityPdf(await selectedReport(), { creationDate });
    expect(first.subarray(0, 5).toString()).toBe("%PDF-");
    expect(first.equals(second)).toBe(true);
  });
});

describe("report routes", () => {
  const query = `from=${FROM}&to=${TO}&services=${SELECTED}`;

  it("serves the three files to an admin token", async () => {
    const csv = await download(getReliabilityCsv, query, { token: fixture.adminToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe(
      'attachment; filename="vigil-reliability-2026-10-28-2026-11-18.csv"',
    );
    expect(csvRecords(csv.bytes.toString("utf8"))).toHaveLength(15);

    const incidents = await download(getIncidentsCsv, query, { token: fixture.adminToken });
    expect(incidents.status).toBe(200);
    expect(csvRecords(incidents.bytes.toString("utf8"))).toHaveLength(4);

    const pdf = await download(getReliabilityPdf, query, { token: fixture.adminToken });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(await pdfText(pdf.bytes)).toContain("Checkout returns 502");
  });

  it("serves a responder session", async () => {
    const csv = await download(getReliabilityCsv, "range=30d", { cookie: fixture.responderCookie });
    expect(csv.status).toBe(200);
  });

  it("rejects viewers, ingest tokens and no credentials", async () => {
    const viewer = await download(getReliabilityPdf, query, { cookie: fixture.viewerCookie });
    expect(viewer.status).toBe(403);
    expect(viewer.json?.error.message).toContain("viewer");
    const ingest = await download(getReliabilityCsv, query, { token: fixture.ingestToken });
    expect(ingest.status).toBe(403);
    const anonymous = await download(getIncidentsCsv, query, {});
    expect(anonymous.status).toBe(401);
  });

  it("limits a bound token to its service", async () => {
    const other = await download(getReliabilityCsv, query, { token: fixture.boundToken });
    expect(other.status).toBe(403);
    expect(other.json?.error.field).toBe("services");

    const own = await download(getReliabilityCsv, `from=${FROM}&to=${TO}`, {
      token: fixture.boundToken,
    });
    expect(own.status).toBe(200);
    const services = new Set(csvRecords(own.bytes.toString("utf8")).map((row) => row.service));
    expect([...services]).toEqual(["orders-db", ""]);
  });

  it("rejects a period with too many incidents", async () => {
    // September 2026 lies outside every other test's period.
    const { rows } = await getPool().query<{ id: number }>(
      "SELECT id FROM service WHERE slug = 'edge-gateway'",
    );
    await getPool().query(
      `INSERT INTO incident (service_id, title, status, source, dedup_key, opened_at)
       SELECT $1, 'storm ' || g, 'triggered', 'manual', 'storm-' || g,
              TIMESTAMPTZ '2026-09-01T00:00:00Z' + g * interval '1 minute'
         FROM generate_series(1, $2::int) g`,
      [rows[0]!.id, REPORT_INCIDENTS_MAX + 1],
    );
    const response = await download(
      getIncidentsCsv,
      "from=2026-09-01&to=2026-10-01&services=edge-gateway",
      { token: fixture.adminToken },
    );
    expect(response.status).toBe(422);
    expect(response.json?.error.field).toBe("from");
    expect(response.json?.error.message).toContain(String(REPORT_INCIDENTS_MAX));
  });

  const badRequests: [string, string, number, string][] = [
    ["unknown range", "range=5d", 400, "range"],
    ["range with from", `range=7d&from=${FROM}&to=${TO}`, 400, "range"],
    ["from without to", `from=${FROM}`, 400, "to"],
    ["to without from", `to=${TO}`, 400, "from"],
    ["invalid from", `from=yesterday&to=${TO}`, 400, "from"],
    ["invalid calendar date", `from=2026-02-30&to=${TO}`, 400, "from"],
    ["from after to", `from=${TO}&to=${FROM}`, 400, "to"],
    ["from equal to", `from=${FROM}&to=${FROM}`, 400, "to"],
    ["span over 400 days", "from=2025-01-01&to=2026-02-06", 400, "to"],
    ["empty service item", `range=7d&services=checkout-api,,orders-db`, 400, "services"],
    ["unknown service", `range=7d&services=checkout-api,nope`, 400, "services"],
    ["unknown team", "range=7d&teams=nope", 400, "teams"],
    ["NUL in services", "range=7d&services=%00", 400, "services"],
    ["NUL in teams", "range=7d&teams=%00", 400, "teams"],
    ["year 0000", "from=0000-01-01&to=0000-12-31", 400, "from"],
    ["year 10000", "from=2026-01-01&to=10000-01-01", 400, "to"],
  ];
  for (const [name, badQuery, status, field] of badRequests) {
    it(`rejects ${name}`, async () => {
      const response = await download(getReliabilityCsv, badQuery, { token: fixture.adminToken });
      expect(response.status).toBe(status);
      expect(response.json?.error.field).toBe(field);
      expect(response.json?.error.message).toMatch(new RegExp(field === "services" ? "servic" : field));
    });
  }
});

describe("team selection", () => {
  const period = `from=${FROM}&to=${TO}`;

  beforeAll(async () => {
    await getPool().query(
      `INSERT INTO team (slug, name) VALUES ('storefront', 'Storefront'), ('edge', 'Edge'), ('idle', 'Idle')`,
    );
    await getPool().query(
      `UPDATE service SET team_id = (SELECT id FROM team WHERE slug = 'storefront')
        WHERE slug IN ('checkout-api', 'orders-db')`,
    );
    await getPool().query(
      `UPDATE service SET team_id = (SELECT id FROM team WHERE slug = 'edge') WHERE slug = 'edge-gateway'`,
    );
  });

  it("equals the report of its services", async () => {
    const byTeam = await download(getReliabilityCsv, `${period}&teams=storefront`, {
      token: fixture.adminToken,
    });
    const byServices = await download(getReliabilityCsv, `${period}&services=${SELECTED}`, {
      token: fixture.adminToken,
    });
    expect(byTeam.status).toBe(200);
    expect(byTeam.bytes.toString("utf8")).toBe(byServices.bytes.toString("utf8"));

    const selection = await resolveReportSelection({ from: FROM, to: TO, teams: "storefront" }, NOW);
    const report = await buildReliabilityReport(selection, NOW);
    const kpis = await getKpis({
      from: new Date(FROM),
      to: new Date(TO),
      serviceIds: selection.services.map((service) => service.id),
    });
    expect(report.overall.period).toEqual(kpis);
  });

  it("takes the union with services", async () => {
    const selection = await resolveReportSelection(
      { from: FROM, to: TO, teams: "storefront,edge", services: "orders-db" },
      NOW,
    );
    expect(selection.services.map((service) => service.slug)).toEqual([
      "checkout-api",
      "edge-gateway",
      "orders-db",
    ]);
    expect(selection.teams).toEqual([
      { slug: "edge", name: "Edge" },
      { slug: "storefront", name: "Storefront" },
    ]);
    expect(selection.all).toBe(false);
  });

  it("names the teams in the PDF", async () => {
    const pdf = await download(getReliabilityPdf, `${period}&teams=storefront`, {
      token: fixture.adminToken,
    });
    expect(pdf.status).toBe(200);
    const text = await pdfText(pdf.bytes);
    expect(text).toContain("Teams: Storefront");
    expect(text).toContain("Services: Service checkout-api, Service orders-db");
  });

  it("selects nothing for an empty team", async () => {
    const selection = await resolveReportSelection({ from: FROM, to: TO, teams: "idle" }, NOW);
    expect(selection.services).toEqual([]);
    expect(selection.all).toBe(false);
    const report = await buildReliabilityReport(selection, NOW);
    expect(report.incidents).toEqual([]);
    expect(report.perService).toEqual([]);
    expect(report.overall.period.incidentFrequency.sampleSize).toBe(0);

    const incidents = await download(getIncidentsCsv, `${period}&teams=idle`, { token: fixture.adminToken });
    expect(incidents.status).toBe(200);
    expect(csvRecords(incidents.bytes.toString("utf8"))).toHaveLength(0);
  });

  const badTeams: [string, string][] = [
    ["unknown team", `${period}&teams=storefront,nope`],
    ["empty team item", `${period}&teams=storefront,,edge`],
  ];
  for (const [name, badQuery] of badTeams) {
    it(`rejects ${name}`, async () => {
      const response = await download(getReliabilityCsv, badQuery, { token: fixture.adminToken });
      expect(response.status).toBe(400);
      expect(response.json?.error.field).toBe("teams");
      expect(response.json?.error.message).toContain("teams");
    });
  }

  it("limits a bound token within a team", async () => {
    const response = await download(getReliabilityCsv, `${period}&teams=storefront`, {
      token: fixture.boundToken,
    });
    expect(response.status).toBe(403);
    expect(response.json?.error.field).toBe("services");
  });
});
