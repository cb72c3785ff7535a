import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

import { canonicalLabelsKey } from "@/lib/ingest/schemas";
import { createTestDatabase } from "@/tests/support/database";

import { buildNextApp, buildReason, NEXT_BIN, sourceHash } from "../cli/next-build";
import { checkPortFree, waitForHttp } from "../cli/supervisor";
import { buildFleet, fleetValues, type FleetOptions } from "./fleet";
import type { ClientJob, ClientResult } from "./ingest-client";

// npm run bench:ingest: end-to-end ingest throughput against a real
// PostgreSQL. It starts the Vigil web server (next start) on a new database.
// A second process sends the same fleet through remote write and through the
// JSON API. Then the same rows are COPYed into data_point in the same
// database as the reference. Before each phase data_point and the job queue
// are emptied, so that every phase writes into the same table state.
//
// The worker does not run: it would compete for the same cores. Ingest still
// enqueues the scoring jobs inside each request's transaction.

const root = path.resolve(import.meta.dirname, "../..");

const { values: args } = parseArgs({
  options: {
    series: { type: "string", default: "10000" },
    services: { type: "string", default: "50" },
    rounds: { type: "string", default: "40" },
    concurrency: { type: "string", default: "8" },
    "remote-write-batch": { type: "string", default: "2000" },
    "json-rounds": { type: "string", default: "10" },
    port: { type: "string", default: "3390" },
    formats: { type: "string", default: "remote-write,json" },
    repeats: { type: "string", default: "3" },
  },
});

function positive(name: keyof typeof args): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`--${name} must be a positive integer, got ${args[name]}`);
  }
  return value;
}

const STEP_MS = 15_000;
const COPY_PHASE = "COPY into data_point (reference)";

type Phase = {
  name: string;
  points: number;
  seconds: number;
  requests?: number;
  p50?: number;
  p99?: number;
};

function runClient(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "scripts/bench/ingest-client.ts"), JSON.stringify(job)],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`ingest client exited with code ${code}`));
        return;
      }
      resolve(JSON.parse(output.trim()) as ClientResult);
    });
  });
}

async function resetPoints(pool: pg.Pool): Promise<void> {
  await pool.query("TRUNCATE data_point");
  await pool.query("DELETE FROM graphile_worker._private_jobs");
  await pool.query("VACUUM ANALYZE data_point");
  await pool.query("VACUUM ANALYZE metric_series");
}

async function countPoints(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("SELECT count(*) AS n FROM data_point");
  return Number(rows[0]!.n);
}

/** COPYs the fleet's rows into data_point in one stream and times it. */
async function copyReference(pool: pg.Pool, options: FleetOptions): Promise<Phase> {
  const fleet = buildFleet(options.series, options.services);
  const values = fleetValues(fleet, options.rounds);
  const { rows } = await pool.query<{ id: number; slug: string; name: string; labels_key: string }>(
    `SELECT m.id, s.slug, m.name, m.labels_key
       FROM metric_series m JOIN service s ON s.id = m.service_id`,
  );
  const ids = new Map(rows.map((row) => [`${row.slug}\u0000${row.name}\u0000${row.labels_key}`, row.id]));
  const seriesIds = fleet.map((series) => {
    const id = ids.get(`${series.service}\u0000${series.name}\u0000${canonicalLabelsKey(series.labels)}`);
    if (id === undefined) throw new Error(`series ${series.name} of ${series.service} is missing`);
    return id;
  });

  // Text rows are built before the clock starts, like the senders' bodies.
  const chunks: string[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const ts = new Date(options.startMs + round * options.stepMs).toISOString();
    const lines: string[] = [];
    for (let i = 0; i < fleet.length; i += 1) {
      lines.push(`${seriesIds[i]}\t${ts}\t${values[round]![i]}\n`);
    }
    chunks.push(lines.join(""));
  }

  const client = await pool.connect();
  try {
    const startedAt = performance.now();
    await pipeline(
      Readable.from(chunks),
      client.query(copyFrom("COPY data_point (series_id, ts, value) FROM STDIN")),
    );
    const seconds = (performance.now() - startedAt) / 1000;
    return { name: COPY_PHASE, points: fleet.length * options.rounds, seconds };
  } finally {
    client.release();
  }
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function main(): Promise<void> {
  const series = positive("series");
  const services = positive("services");
  const rounds = positive("rounds");
  const concurrency = positive("concurrency");
  const batch = positive("remote-write-batch");
  const jsonRounds = positive("json-rounds");
  const port = positive("port");
  const repeats = positive("repeats");
  const formats = args.formats!.split(",").map((format) => {
    if (format !== "remote-write" && format !== "json") {
      throw new Error(`--formats lists remote-write and json, got ${format}`);
    }
    return format;
  });

  const hash = await sourceHash(root);
  const reason = await buildReason(root, hash);
  if (reason !== undefined) {
    console.log(`Building the web app first (${reason})...`);
    await buildNextApp(root, {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
    });
  }
  await checkPortFree("127.0.0.1", port);

  const database = await createTestDatabase("bench_ingest");
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  process.env.DATABASE_URL = database.url;
  const { createApiToken } = await import("@/lib/auth/api-token");
  const { closeDb } = await import("@/lib/db");
  const { token } = await createApiToken({ name: "ingest benchmark", scope: "ingest" });
  await closeDb();

  // BENCH_SERVER_NODE_ARGS passes flags such as "--cpu-prof" to the server.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const server = spawn(process.execPath, [...nodeArgs, NEXT_BIN, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
      NEXT_TELEMETRY_DISABLED: "1",
      VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR: String(Math.max(10_000, series)),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/api/v1/services`, 60_000, () => server.exitCode !== null);

    const now = Date.now();
    const options: FleetOptions = {
      series,
      services,
      rounds,
      startMs: Math.floor((now - 2 * 3_600_000) / STEP_MS) * STEP_MS,
      stepMs: STEP_MS,
    };
    const job = (format: ClientJob["format"], overrides: Partial<ClientJob> = {}): ClientJob => ({
      ...options,
      format,
      url: `${base}${format === "remote-write" ? "/api/v1/prometheus/write" : "/api/v1/metrics"}`,
      token,
      concurrency,
      batch: format === "remote-write" ? batch : jsonRounds,
      ...overrides,
    });

    console.log(
      `Ingest benchmark: ${series} series in ${services} services, ${rounds} rounds ` +
        `(${series * rounds} points per phase), ${concurrency} requests in flight, ` +
        `PostgreSQL at ${new URL(database.url).host}`,
    );

    // One round through each API creates the series and warms both paths.
    for (const format of formats) {
      const warm = await runClient(job(format, { rounds: jsonRounds, startMs: options.startMs - 3_600_000 }));
      if (warm.failures.length > 0) throw new Error(`warm-up failed: ${warm.failures.join("; ")}`);
    }

    // Each repeat runs every phase once, so that load from elsewhere on a
    // shared machine falls on all phases alike. The table shows the median.
    const runs = new Map<string, Phase[]>();
    const record = (phase: Phase) => {
      const list = runs.get(phase.name) ?? [];
      list.push(phase);
      runs.set(phase.name, list);
    };
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      for (const format of formats) {
        await resetPoints(pool);
        const result = await runClient(job(format));
        if (result.failures.length > 0) {
          throw new Error(`${format} phase failed: ${result.failures.join("; ")}`);
        }
        const stored = await countPoints(pool);
        if (stored !== result.points) {
          throw new Error(`${format} phase stored ${stored} points of ${result.points} acknowledged`);
        }
        record({
          name: format === "remote-write" ? "remote write (protobuf + snappy)" : "JSON API (POST /api/v1/metrics)",
          points: result.points,
          seconds: result.seconds,
          requests: result.requests,
          p50: result.latenciesMs.p50,
          p99: result.latenciesMs.p99,
        });
      }
      await resetPoints(pool);
      record(await copyReference(pool, options));
    }

    const rate = (phase: Phase) => phase.points / phase.seconds;
    const median = (list: Phase[]) => [...list].sort((a, b) => rate(a) - rate(b))[Math.floor(list.length / 2)]!;
    const reference = median(runs.get(COPY_PHASE)!);
    const referenceRate = rate(reference);
    console.log("");
    console.log(`Median of ${repeats} runs per phase (range of points/s in brackets):`);
    console.log("phase                               points/s  requests  p50 ms  p99 ms  ratio to COPY  range");
    for (const list of runs.values()) {
      const phase = median(list);
      const rates = list.map(rate);
      console.log(
        [
          phase.name.padEnd(34),
          Math.round(rate(phase)).toString().padStart(10),
          (phase.requests?.toString() ?? "-").padStart(9),
          (phase.p50 === undefined ? "-" : phase.p50.toFixed(1)).padStart(7),
          (phase.p99 === undefined ? "-" : phase.p99.toFixed(1)).padStart(7),
          (rate(phase) / referenceRate).toFixed(2).padStart(14),
          `  [${Math.round(Math.min(...rates))}-${Math.round(Math.max(...rates))}]`,
        ].join(" "),
      );
    }
  } finally {
    await stopServer(server);
    await pool.end();
    await database.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
