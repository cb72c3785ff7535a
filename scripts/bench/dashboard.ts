import os from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import pg from "pg";

import { closeDb } from "@/lib/db";
import {
  foldAllPendingRollups,
  getKpis,
  getKpisFromPoints,
  getKpiTrend,
  getKpiTrendFromPoints,
  type KpiRange,
} from "@/lib/kpi";
import { migrate } from "@/lib/migrate";
import { renderIncidentsCsv, renderReliabilityCsv } from "@/lib/reports/csv";
import { buildReliabilityReport } from "@/lib/reports/report";

// npm run bench:dashboard: times the overview KPIs and a 90-day report on a
// year of data, on a full database and on one with a tenth of the points,
// incidents and deployments, in the same run. Both have the same 50
// services and 500 series, so the ratio full / tenth shows how the cost
// grows with the number of points. The same KPIs summed from every point
// (getKpiTrendFromPoints) are timed as the reference without rollups.
//
// Each database is filled with generate_series in SQL. Its rollups are then
// built by foldAllPendingRollups, the code the worker's fold-kpi-rollups job
// runs, from the hours that the data_point triggers marked pending.

const { values: args } = parseArgs({
  options: {
    scale: { type: "string", default: "1" },
    services: { type: "string", default: "50" },
    "series-per-service": { type: "string", default: "10" },
    incidents: { type: "string", default: "5000" },
    deployments: { type: "string", default: "20000" },
    repeats: { type: "string", default: "5" },
    "raw-repeats": { type: "string", default: "3" },
    folders: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
  },
});

function positiveNumber(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`--${name} must be a positive number, got ${args[name]}`);
  }
  return value;
}

function positiveInteger(name: keyof typeof args): number {
  const value = positiveNumber(name);
  if (!Number.isInteger(value)) {
    throw new Error(`--${name} must be a positive integer, got ${args[name]}`);
  }
  return value;
}

const SCALE = positiveNumber("scale");
if (SCALE > 1) throw new Error(`--scale must be at most 1, got ${SCALE}`);
const SERVICES = positiveInteger("services");
const SERIES_PER_SERVICE = positiveInteger("series-per-service");
const INCIDENTS = positiveInteger("incidents");
const DEPLOYMENTS = positiveInteger("deployments");
const REPEATS = positiveInteger("repeats");
const RAW_REPEATS = positiveInteger("raw-repeats");
const FOLDERS = positiveInteger("folders");

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
// One year of data ending at DATA_END. The ranges end at NOW, which is not
// on an hour, so that every range has partial hours at both edges, as the
// dashboard's "last N days" ranges do.
const DATA_END = new Date("2026-12-01T00:00:00Z");
const DATA_START = new Date(DATA_END.getTime() - 365 * DAY_MS);
const NOW = new Date(DATA_END.getTime() - 2 * 3_600_000 - 12 * MINUTE_MS - 33_400);

// The overview's range presets and trend points, as in
// app/(dashboard)/_lib/search-params.ts.
const PRESETS = [
  { key: "24h", days: 1, trendBuckets: 24 },
  { key: "7d", days: 7, trendBuckets: 28 },
  { key: "30d", days: 30, trendBuckets: 30 },
  { key: "90d", days: 90, trendBuckets: 30 },
] as const;

type Size = {
  label: "full" | "tenth";
  /** Seconds between two points of a series. */
  stepSeconds: number;
  incidents: number;
  deployments: number;
};

// At --scale 1 the full database has one point a minute per series; a
// smaller scale widens the step. The tenth database has a step ten times
// wider, and a tenth of the incidents and deployments.
const FULL_STEP_SECONDS = Math.round(60 / SCALE);
const SIZES: Size[] = [
  {
    label: "full",
    stepSeconds: FULL_STEP_SECONDS,
    incidents: INCIDENTS,
    deployments: DEPLOYMENTS,
  },
  {
    label: "tenth",
    stepSeconds: FULL_STEP_SECONDS * 10,
    incidents: Math.max(1, Math.round(INCIDENTS / 10)),
    deployments: Math.max(1, Math.round(DEPLOYMENTS / 10)),
  },
];

// ---- Databases ----

const SERVER_URL =
  process.env.VIGIL_BENCH_SERVER_URL ??
  process.env.DATABASE_URL ??
  "postgresql://postgres@127.0.0.1:5432/postgres";

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(SERVER_URL, "postgres") });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

async function createDatabase(name: string): Promise<string> {
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = withDatabase(SERVER_URL, name);
  await migrate(url);
  return url;
}

function seconds(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

function log(message: string): void {
  const load = os.loadavg().map((value) => value.toFixed(2)).join(" ");
  console.log(`[${new Date().toISOString().slice(11, 19)} load ${load}] ${message}`);
}

// ---- Data ----

/** Inserts the services and their series; requests and errors are the error-rate counters. */
async function insertServices(client: pg.Client): Promise<void> {
  await client.query(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     SELECT 'service-' || lpad(g::text, 3, '0'), 'Service ' || g, 'requests', 'errors'
     FROM generate_series(1, $1) AS g`,
    [SERVICES],
  );
  await client.query(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     SELECT s.id,
            CASE n WHEN 1 THEN 'requests' WHEN 2 THEN 'errors' ELSE 'gauge_' || n END,
            '{}', '{}'
     FROM service s CROSS JOIN generate_series(1, $1) AS n`,
    [SERIES_PER_SERVICE],
  );
}

/**
 * Inserts a year of points for one service, one statement per service so
 * that the trigger's transition table stays a few million rows. Requests
 * follow a daily cycle with noise, errors are a few per step with rare
 * bursts, the other series are gauges.
 */
async function insertPoints(client: pg.Client, serviceId: number, size: Size): Promise<number> {
  const result = await client.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT ms.id, t.ts,
            CASE ms.name
              WHEN 'requests' THEN
                round(600 + 400 * sin(extract(epoch FROM t.ts) * pi() / 43200)
                      + 100 * random())
              WHEN 'errors' THEN
                floor(8 * random()) + CASE WHEN random() < 0.001 THEN 300 ELSE 0 END
              ELSE 50 + 10 * sin(extract(epoch FROM t.ts) / 3600) + 5 * random()
            END
     FROM metric_series ms
     CROSS JOIN generate_series($2::timestamptz, $3::timestamptz - interval '1 millisecond',
                                make_interval(secs => $4)) AS t(ts)
     WHERE ms.service_id = $1`,
    [serviceId, DATA_START.toISOString(), DATA_END.toISOString(), size.stepSeconds],
  );
  return result.rowCount ?? 0;
}

/** Inserts incidents with acknowledged and resolved events, and deployments. */
async function insertIncidentsAndDeployments(client: pg.Client, size: Size): Promise<void> {
  const spanSeconds = (DATA_END.getTime() - DATA_START.getTime()) / 1000;
  // Open for 5 minutes to about 8 hours, acknowledged within 20 minutes;
  // every 50th is still open and every 5th is not service-impacting.
  await client.query(
    `WITH ids AS (SELECT array_agg(id ORDER BY id) AS list FROM service),
     draw AS (
       SELECT g,
              $1::timestamptz + make_interval(secs => random() * $2) AS opened_at,
              make_interval(secs => 60 + random() * 1200) AS to_ack,
              make_interval(secs => 300 + power(random(), 3) * 28800) AS to_resolve
       FROM generate_series(1, $3) AS g
     )
     INSERT INTO incident (service_id, title, status, severity, source,
                           service_impacting, dedup_key, opened_at,
                           acknowledged_at, resolved_at)
     SELECT ids.list[1 + g % cardinality(ids.list)],
            'bench incident ' || g,
            (CASE WHEN g % 50 = 0 THEN 'acknowledged' ELSE 'resolved' END)::"IncidentStatus",
            (ARRAY['sev1', 'sev2', 'sev3', 'sev4'])[1 + g % 4]::"Severity",
            'manual', g % 5 <> 0, 'bench-' || g, opened_at,
            opened_at + to_ack,
            CASE WHEN g % 50 = 0 THEN NULL ELSE opened_at + to_ack + to_resolve END
     FROM draw CROSS JOIN ids`,
    [DATA_START.toISOString(), spanSeconds, size.incidents],
  );
  await client.query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, created_at)
     SELECT id, 'opened', 'system'::"ActorType", 'bench', 'Opened', opened_at FROM incident
     UNION ALL
     SELECT id, 'acknowledged', 'user'::"ActorType", 'bench', 'Acknowledged', acknowledged_at
     FROM incident WHERE acknowledged_at IS NOT NULL
     UNION ALL
     SELECT id, 'resolved', 'user'::"ActorType", 'bench', 'Resolved', resolved_at
     FROM incident WHERE resolved_at IS NOT NULL`,
  );
  await client.query(
    `WITH ids AS (SELECT array_agg(id ORDER BY id) AS list FROM service)
     INSERT INTO deployment (service_id, version, deployed_at, commit_sha, commit_at)
     SELECT d.service_id, d.version, d.deployed_at, d.commit_sha,
            -- Four in five deployments carry a commit time, 10 min to 2 days
            -- before the deployment, so lead time reads a realistic share.
            CASE WHEN d.g % 5 <> 0
                 THEN d.deployed_at - make_interval(secs => 600 + random() * 172200)
            END
     FROM (
       SELECT g, ids.list[1 + (g * 7) % cardinality(ids.list)] AS service_id,
              'v' || g AS version,
              $1::timestamptz + make_interval(secs => random() * $2) AS deployed_at,
              md5(g::text) AS commit_sha
       FROM generate_series(1, $3) AS g CROSS JOIN ids
     ) d`,
    [DATA_START.toISOString(), spanSeconds, size.deployments],
  );
}

/** Folds every pending hour with `FOLDERS` connections at once, as several workers would. */
async function buildRollups(url: string): Promise<{ hours: number; days: number }> {
  const clients = await Promise.all(
    Array.from({ length: FOLDERS }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  try {
    const results = await Promise.all(
      clients.map((client) => foldAllPendingRollups(client, { batchHours: 5000 })),
    );
    return {
      hours: results.reduce((sum, result) => sum + result.hours, 0),
      days: results.reduce((sum, result) => sum + result.days, 0),
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

type Filled = { url: string; points: number; sizeBytes: number };

async function fillDatabase(url: string, size: Size): Promise<Filled> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Only this session's commits; the data are regenerated on every run.
    await client.query("SET synchronous_commit = off");
    await insertServices(client);
    const { rows: services } = await client.query<{ id: number }>(
      "SELECT id FROM service ORDER BY id",
    );

    let startedAt = performance.now();
    let points = 0;
    for (const [i, service] of services.entries()) {
      points += await insertPoints(client, service.id, size);
      if ((i + 1) % 10 === 0 || i + 1 === services.length) {
        log(`${size.label}: ${points.toLocaleString("en")} points, ${i + 1}/${services.length} services`);
      }
    }
    const pointSeconds = seconds(startedAt);
    log(
      `${size.label}: inserted ${points.toLocaleString("en")} points in ${pointSeconds.toFixed(1)} s ` +
        `(${Math.round(points / pointSeconds).toLocaleString("en")} points/s, triggers included)`,
    );

    await insertIncidentsAndDeployments(client, size);

    startedAt = performance.now();
    const folded = await buildRollups(url);
    const foldSeconds = seconds(startedAt);
    log(
      `${size.label}: folded ${folded.hours.toLocaleString("en")} hours into rollups in ` +
        `${foldSeconds.toFixed(1)} s with ${FOLDERS} connections ` +
        `(${Math.round(points / foldSeconds).toLocaleString("en")} points/s)`,
    );

    await client.query("VACUUM ANALYZE");
    const { rows } = await client.query<{ bytes: string }>(
      "SELECT pg_database_size(current_database()) AS bytes",
    );
    return { url, points, sizeBytes: Number(rows[0]!.bytes) };
  } finally {
    await client.end();
  }
}

// ---- Timings ----

type Case = { name: string; run: () => Promise<unknown>; reference: boolean };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function overviewCases(oneServiceId: number): Case[] {
  const cases: Case[] = [];
  for (const preset of PRESETS) {
    for (const [scope, serviceIds] of [
      ["all services", undefined],
      ["one service", [oneServiceId]],
    ] as const) {
      const range: KpiRange = {
        from: new Date(NOW.getTime() - preset.days * DAY_MS),
        to: NOW,
        serviceIds: serviceIds ? [...serviceIds] : undefined,
      };
      const name = `overview ${preset.key}, ${scope}`;
      cases.push({
        name,
        reference: false,
        run: () => Promise.all([getKpis(range), getKpiTrend(range, preset.trendBuckets)]),
      });
      cases.push({
        name,
        reference: true,
        run: () =>
          Promise.all([
            getKpisFromPoints(range),
            getKpiTrendFromPoints(range, preset.trendBuckets),
          ]),
      });
    }
  }
  return cases;
}

/** Computes the KPIs of every service, one service at a time, for each of the 13 weeks before NOW. */
async function weeklyPerService(
  serviceIds: number[],
  trend: typeof getKpiTrend,
): Promise<void> {
  const range = { from: new Date(NOW.getTime() - 91 * DAY_MS), to: NOW };
  for (const id of serviceIds) {
    await trend({ ...range, serviceIds: [id] }, 13);
  }
}

function reportCases(services: Array<{ id: number; slug: string; name: string }>): Case[] {
  const ids = services.map((service) => service.id);
  const from = new Date(NOW.getTime() - 90 * DAY_MS);
  return [
    {
      name: "90d weekly KPIs per service",
      reference: false,
      run: () => weeklyPerService(ids, getKpiTrend),
    },
    {
      name: "90d weekly KPIs per service",
      reference: true,
      run: () => weeklyPerService(ids, getKpiTrendFromPoints),
    },
    {
      // The reports' own code (lib/reports), which reads the rollups.
      name: "90d report CSV export (lib/reports)",
      reference: false,
      run: async () => {
        const report = await buildReliabilityReport(
          { from, to: NOW, preset: null, services, all: true },
          NOW,
        );
        return [renderReliabilityCsv(report), renderIncidentsCsv(report, "http://127.0.0.1")];
      },
    },
  ];
}

type Timing = { name: string; reference: boolean; medianMs: number; runs: number };

async function timeCases(url: string, label: string): Promise<Timing[]> {
  await closeDb();
  process.env.DATABASE_URL = url;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows: services } = await client.query<{ id: number; slug: string; name: string }>(
    "SELECT id, slug, name FROM service ORDER BY slug",
  );
  await client.end();

  const cases = [...overviewCases(services[0]!.id), ...reportCases(services)];
  const timings: Timing[] = [];
  for (const entry of cases) {
    const runs = entry.reference ? RAW_REPEATS : REPEATS;
    // One run first that is not timed, so that every timed run finds the
    // pool connected and the pages in the cache.
    await entry.run();
    const durations: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const startedAt = performance.now();
      await entry.run();
      durations.push(performance.now() - startedAt);
    }
    const timing = { name: entry.name, reference: entry.reference, medianMs: median(durations), runs };
    timings.push(timing);
    log(`${label}: ${entry.name}${entry.reference ? " (from points)" : ""}: ${timing.medianMs.toFixed(1)} ms median of ${runs}`);
  }
  await closeDb();
  return timings;
}

// ---- Output ----

function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "-";
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function printTable(full: Timing[], tenth: Timing[]): void {
  const find = (list: Timing[], name: string, reference: boolean) =>
    list.find((timing) => timing.name === name && timing.reference === reference)?.medianMs;
  const names = [...new Set(full.map((timing) => timing.name))];
  const header = [
    "case",
    "rollups full ms",
    "rollups tenth ms",
    "ratio",
    "points full ms",
    "points tenth ms",
    "ratio",
    "gain full",
  ];
  const rows = names.map((name) => {
    const rollupFull = find(full, name, false);
    const rollupTenth = find(tenth, name, false);
    const rawFull = find(full, name, true);
    const rawTenth = find(tenth, name, true);
    const ratio = (a?: number, b?: number) =>
      a === undefined || b === undefined ? "-" : (a / b).toFixed(2);
    return [
      name,
      formatMs(rollupFull),
      formatMs(rollupTenth),
      ratio(rollupFull, rollupTenth),
      formatMs(rawFull),
      formatMs(rawTenth),
      ratio(rawFull, rawTenth),
      rawFull === undefined || rollupFull === undefined ? "-" : `${(rawFull / rollupFull).toFixed(1)}x`,
    ];
  });
  console.log(`\n| ${header.join(" | ")} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

async function main(): Promise<void> {
  const stamp = `${Date.now()}_${process.pid}`;
  const databases = SIZES.map((size) => `vigil_bench_dashboard_${stamp}_${size.label}`);
  log(
    `scale ${SCALE}: ${SERVICES} services x ${SERIES_PER_SERVICE} series, ` +
      `one point every ${FULL_STEP_SECONDS} s in the full database and every ` +
      `${FULL_STEP_SECONDS * 10} s in the tenth, ${DATA_START.toISOString()} to ${DATA_END.toISOString()}`,
  );
  const filled: Filled[] = [];
  try {
    for (const [i, size] of SIZES.entries()) {
      const url = await createDatabase(databases[i]!);
      log(`${size.label}: created ${databases[i]}`);
      filled.push(await fillDatabase(url, size));
    }
    for (const [i, size] of SIZES.entries()) {
      log(
        `${size.label}: ${filled[i]!.points.toLocaleString("en")} points, ` +
          `${size.incidents} incidents, ${size.deployments} deployments, ` +
          `${(filled[i]!.sizeBytes / 1e9).toFixed(2)} GB`,
      );
    }
    const full = await timeCases(filled[0]!.url, "full");
    const tenth = await timeCases(filled[1]!.url, "tenth");
    printTable(full, tenth);
    console.log(
      `\nMedians of ${REPEATS} runs (${RAW_REPEATS} from points) after one untimed run; ` +
        `ranges end at ${NOW.toISOString()}; load average at the end ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores.`,
    );
  } finally {
    await closeDb();
    if (args.keep) {
      log(`kept databases ${databases.join(", ")}`);
    } else {
      for (const name of databases) {
        await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
      log(`dropped databases ${databases.join(", ")}`);
    }
  }
}

await main();
