import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";

import { expect, test } from "@playwright/test";
import pg from "pg";

import { createApiToken } from "@/lib/auth/api-token";
import { getConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { enqueueSeriesScoring } from "@/lib/queue";
import { createTestDatabase } from "@/tests/support/database";

import {
  acceptsConnections,
  killProcessGroup,
  listeningProcesses,
  processGroupMembers,
  startWebServer,
} from "./support/ingest-server";
import {
  compareStored,
  planStream,
  readStoredPoints,
  StreamSender,
  STREAM_POINTS_PER_BATCH,
} from "./support/ingest-stream";
import { findFreePort, startProcess, stopProcess } from "./support/processes";

// Crash safety of ingest. A sender streams batches of known points to its
// own `next start` server, over JSON and remote write with several requests
// in flight. The test SIGKILLs the server's process group mid-stream,
// restarts it on the same port and database, and retries every batch that
// got no 2xx, as Prometheus does. It does so three times, because each kill
// lands on whatever the in-flight requests were doing at that moment. Every
// acknowledged point must be stored with its exact value, and no other point
// may exist. A batch cut off by a kill must be stored whole or not at all.

const PORT_RANGE = [3280, 3299] as const;
const BATCH_COUNT = 60;
const CONCURRENCY = 6;
/** For each kill, the batches acknowledged since the last restart that trigger it. */
const KILL_AFTER_ACKNOWLEDGED = [10, 6, 12];

test.describe.configure({ timeout: 120_000 });

/** Creates an ingest token in the database at `databaseUrl` and returns it in clear. */
async function createIngestToken(databaseUrl: string): Promise<string> {
  // The worker process may have a Prisma client on the suite's database from
  // an earlier spec, so close it and point a new one at this database.
  const suiteDatabaseUrl = process.env.DATABASE_URL;
  await closeDb();
  process.env.DATABASE_URL = databaseUrl;
  try {
    const { token } = await createApiToken({
      name: "ingest crash test",
      scope: "ingest",
    });
    return token;
  } finally {
    await closeDb();
    if (suiteDatabaseUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = suiteDatabaseUrl;
  }
}

test("web SIGKILL mid-stream loses no acknowledged point", async () => {
  const database = await createTestDatabase("ingest_crash");
  const client = new pg.Client({ connectionString: database.url });
  let server: ChildProcess | undefined;
  await client.connect();
  try {
    const token = await createIngestToken(database.url);
    const port = await findFreePort(...PORT_RANGE);
    const baseUrl = `http://127.0.0.1:${port}`;
    const logDir = path.resolve("test-results/e2e-logs");
    await mkdir(logDir, { recursive: true });
    const serverOptions = {
      port,
      databaseUrl: database.url,
      nextAuthSecret: randomBytes(32).toString("base64url"),
    };
    const startServer = (run: number) =>
      startWebServer({
        ...serverOptions,
        logFile: path.join(logDir, `ingest-crash-next-${run}.log`),
      });

    // Timestamps of the last few hours, whole seconds.
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 6 * 3_600_000;
    const batches = planStream(BATCH_COUNT, startMs);
    const order = batches.map((batch) => batch.index);
    const sender = new StreamSender(baseUrl, token, batches);
    /** Batches of each round that the snapshot before it showed as stored. */
    const storedBeforeRound: Set<number>[] = [];
    let pending = order;
    const summary: string[] = [];

    server = await startServer(0);
    for (const [round, killAfter] of KILL_AFTER_ACKNOWLEDGED.entries()) {
      const phase = `round ${round}`;
      const groupId = server.pid!;
      const members = processGroupMembers(groupId);
      expect(
        listeningProcesses(port, members),
        `a process of group ${groupId} (${members.join(", ")}) listens on ${port}`,
      ).toHaveLength(1);

      // Send until `killAfter` batches are acknowledged, then SIGKILL the
      // server at once, from inside that acknowledgement, while the other
      // workers' requests are in flight.
      let acknowledged = 0;
      let inFlightAtKill: number[] = [];
      let killed: Promise<void> | undefined;
      const serverToKill = server;
      await sender.send(pending, phase, CONCURRENCY, (attempt) => {
        if (killed !== undefined || attempt.outcome !== "acknowledged") return;
        acknowledged += 1;
        if (acknowledged < killAfter) return;
        inFlightAtKill = [...sender.inFlight];
        sender.halt();
        killed = killProcessGroup(serverToKill);
      });
      expect(killed, `${phase}: the server was killed mid-stream`).toBeDefined();
      await killed;
      expect(inFlightAtKill.length, `${phase}: requests in flight at the kill`).toBeGreaterThan(0);
      expect(processGroupMembers(groupId)).toEqual([]);
      expect(await acceptsConnections(port)).toBe(false);

      // While the server is down, a further batch is refused.
      const [probeBatch] = sender.unsent(order);
      expect(probeBatch).toBeDefined();
      const probe = await sender.sendOne(probeBatch!, phase);
      expect(probe.outcome, `${phase}: batch ${probeBatch} sent to the dead server`).toBe(
        "connection-error",
      );

      server = await startServer(round + 1);

      // Snapshot after the restart, before any retry.
      const snapshot = compareStored(batches, await readStoredPoints(client));
      expect(snapshot.unexpected, `${phase}: stored points never sent`).toEqual([]);
      expect(snapshot.wrongValue, `${phase}: stored values that differ`).toEqual([]);
      expect(snapshot.repeated, `${phase}: points stored twice`).toEqual([]);
      const attempted = new Set(sender.attempts.map((attempt) => attempt.batch));
      for (const batch of order) {
        const stored = snapshot.storedPerBatch[batch];
        if (sender.isAcknowledged(batch)) {
          expect(stored, `${phase}: acknowledged batch ${batch}`).toBe(
            STREAM_POINTS_PER_BATCH,
          );
        } else if (attempted.has(batch)) {
          expect(
            [0, STREAM_POINTS_PER_BATCH],
            `${phase}: stored points of failed batch ${batch}`,
          ).toContain(stored);
        } else {
          expect(stored, `${phase}: batch ${batch}, never sent`).toBe(0);
        }
      }

      // The next round retries every batch without a 2xx first, then sends
      // the rest of the stream.
      const retried = order.filter(
        (batch) => attempted.has(batch) && !sender.isAcknowledged(batch),
      );
      pending = [...retried, ...sender.unsent(order)];
      storedBeforeRound[round + 1] = new Set(
        retried.filter(
          (batch) => snapshot.storedPerBatch[batch] === STREAM_POINTS_PER_BATCH,
        ),
      );
      const cutOff = inFlightAtKill.map((batch) => {
        const state = sender.isAcknowledged(batch)
          ? "acknowledged"
          : snapshot.storedPerBatch[batch] === 0
            ? "absent"
            : "stored";
        return `${batch} ${state}`;
      });
      summary.push(
        `${phase}: killed after ${acknowledged} acknowledged, in flight ${cutOff.join(", ")}`,
      );
    }

    const lastPhase = `round ${KILL_AFTER_ACKNOWLEDGED.length}`;
    await sender.send(pending, lastPhase, CONCURRENCY);
    for (const batch of order) {
      const attempts = sender.attempts.filter((entry) => entry.batch === batch);
      expect(
        sender.isAcknowledged(batch),
        `batch ${batch} acknowledged: ${JSON.stringify(attempts)}`,
      ).toBe(true);
    }
    const httpErrors = sender.attempts.filter(
      (attempt) => attempt.outcome === "http-error",
    );
    expect(httpErrors, "responses other than 2xx").toEqual([]);

    // The counts in each 2xx match what the snapshot before its round showed.
    for (const attempt of sender.attempts) {
      if (attempt.outcome !== "acknowledged") continue;
      const label = `batch ${attempt.batch}, ${attempt.phase}`;
      // A kill can cut the body off after a 2xx status line.
      if (attempt.accepted === undefined && attempt.phase !== lastPhase) continue;
      const round = Number(attempt.phase.replace("round ", ""));
      const storedBefore = storedBeforeRound[round]?.has(attempt.batch) ?? false;
      expect(attempt.accepted, `${label}: accepted points`).toBe(
        storedBefore ? 0 : STREAM_POINTS_PER_BATCH,
      );
      expect(attempt.duplicates, `${label}: duplicate points`).toBe(
        storedBefore ? STREAM_POINTS_PER_BATCH : 0,
      );
    }

    const final = compareStored(batches, await readStoredPoints(client));
    expect(final.unexpected, "stored points never sent").toEqual([]);
    expect(final.wrongValue, "stored values that differ").toEqual([]);
    expect(final.repeated, "points stored twice").toEqual([]);
    for (const batch of order) {
      expect(final.storedPerBatch[batch], `stored points of batch ${batch}`).toBe(
        STREAM_POINTS_PER_BATCH,
      );
    }

    const { rows: counts } = await client.query<{
      points: string;
      distinct_points: string;
      series: string;
      distinct_series: string;
    }>(
      `SELECT (SELECT count(*) FROM data_point) AS points,
              (SELECT count(DISTINCT (series_id, ts)) FROM data_point) AS distinct_points,
              (SELECT count(*) FROM metric_series) AS series,
              (SELECT count(DISTINCT (sv.slug, s.name, s.labels->>'stream'))
                 FROM metric_series s JOIN service sv ON sv.id = s.service_id) AS distinct_series`,
    );
    expect(Number(counts[0]!.points)).toBe(BATCH_COUNT * STREAM_POINTS_PER_BATCH);
    expect(Number(counts[0]!.distinct_points)).toBe(
      BATCH_COUNT * STREAM_POINTS_PER_BATCH,
    );
    // Two formats with four stream labels each.
    expect(Number(counts[0]!.series)).toBe(8);
    expect(Number(counts[0]!.distinct_series)).toBe(8);

    const failures = sender.attempts
      .filter((attempt) => attempt.outcome === "connection-error")
      .map((attempt) => `${attempt.batch} ${attempt.error}`);
    console.log(
      `ingest crash: ${summary.join("; ")}; connection errors ${failures.join(", ")}; ` +
        `${sender.attempts.length} requests for ${BATCH_COUNT} batches`,
    );
  } finally {
    await client.end();
    if (server?.pid !== undefined) await stopProcess(server.pid);
    await database.drop();
  }
});

const WORKER_SERIES = 3;
const WORKER_POINTS_PER_SERIES = 1_000;
/** Time the worker gets to take a job, and to score every series. */
const WORKER_TIMEOUT_MS = 30_000;

/** Starts `node --import tsx workers/main.ts` in its own process group. */
function startWorker(databaseUrl: string, logFile: string): ChildProcess {
  return startProcess(
    process.execPath,
    ["--import", "tsx", "workers/main.ts"],
    {
      ...process.env,
      NODE_ENV: "production",
      VIGIL_PROCESS: "worker",
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "info",
    },
    logFile,
  );
}

/**
 * Returns the points of one series, `WORKER_POINTS_PER_SERIES` of them a
 * minute apart from `startMs`: a daily sine with a tenfold spike of 10
 * points that ends 40 points before the last one.
 */
function spikyPoints(startMs: number): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 0; i < WORKER_POINTS_PER_SERIES; i += 1) {
    const baseline = 100 + 20 * Math.sin((2 * Math.PI * i) / 1440) + (i % 7);
    const spike =
      i >= WORKER_POINTS_PER_SERIES - 50 && i < WORKER_POINTS_PER_SERIES - 40;
    points.push([startMs + i * 60_000, spike ? baseline * 10 : baseline]);
  }
  return points;
}

/** Sends `points` to every worker test series in one JSON request. */
async function sendWorkerPoints(
  baseUrl: string,
  token: string,
  points: [number, number][],
): Promise<void> {
  const response = await fetch(`${baseUrl}/api/v1/metrics`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      service: "crash-worker",
      series: Array.from({ length: WORKER_SERIES }, (_, series) => ({
        name: "crash_worker_value",
        labels: { stream: `w${series}` },
        points,
      })),
    }),
  });
  expect(response.status, await response.text()).toBe(200);
}

type ScoringState = {
  series_id: number;
  scored_until: Date | null;
  newest: Date;
  active_models: string;
  scores: string;
};

async function readScoringState(client: pg.Client): Promise<ScoringState[]> {
  const { rows } = await client.query<ScoringState>(
    `SELECT s.id AS series_id, s.scored_until,
            (SELECT max(ts) FROM data_point p WHERE p.series_id = s.id) AS newest,
            (SELECT count(*) FROM model_version m
              WHERE m.series_id = s.id AND m.status = 'active') AS active_models,
            (SELECT count(*) FROM anomaly_score a WHERE a.series_id = s.id) AS scores
       FROM metric_series s ORDER BY s.id`,
  );
  return rows;
}

/**
 * Polls until every series is scored to its newest point and no job is
 * left, other than jobs still locked by the killed worker processes
 * `deadWorkers`, or until the timeout passes.
 */
async function waitForScoring(
  client: pg.Client,
  deadWorkers: string[],
): Promise<ScoringState[]> {
  const deadline = Date.now() + WORKER_TIMEOUT_MS;
  for (;;) {
    const state = await readScoringState(client);
    const { rows } = await client.query<{ jobs: string }>(
      `SELECT count(*) AS jobs FROM graphile_worker.jobs
        WHERE task_identifier <> 'enqueue-stale-series'
          AND (locked_by IS NULL OR locked_by <> ALL($1::text[]))`,
      [deadWorkers],
    );
    const scored = state.every(
      (row) => row.scored_until?.getTime() === row.newest.getTime(),
    );
    if ((scored && Number(rows[0]!.jobs) === 0) || Date.now() > deadline) {
      return state;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readIncidents(client: pg.Client) {
  const { rows } = await client.query<{
    series_id: number;
    dedup_key: string;
    status: string;
    opened_at: Date;
  }>(
    "SELECT series_id, dedup_key, status, opened_at FROM incident ORDER BY id",
  );
  return rows;
}

test("worker SIGKILL mid-scoring opens no duplicate incident", async () => {
  const database = await createTestDatabase("ingest_crash_worker");
  const client = new pg.Client({ connectionString: database.url });
  let server: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  await client.connect();
  try {
    const token = await createIngestToken(database.url);
    const port = await findFreePort(...PORT_RANGE);
    const baseUrl = `http://127.0.0.1:${port}`;
    const logDir = path.resolve("test-results/e2e-logs");
    await mkdir(logDir, { recursive: true });
    server = await startWebServer({
      port,
      databaseUrl: database.url,
      nextAuthSecret: randomBytes(32).toString("base64url"),
      logFile: path.join(logDir, "ingest-crash-worker-next.log"),
    });

    // History that ends 10 minutes ago, so that a second request can add
    // newer points.
    const startMs =
      Math.floor(Date.now() / 60_000) * 60_000 -
      (WORKER_POINTS_PER_SERIES + 10) * 60_000;
    await sendWorkerPoints(baseUrl, token, spikyPoints(startMs));

    // Kill the worker as soon as it has locked a score-series job, because
    // training a model on 1,000 points takes it far longer than one poll.
    worker = startWorker(
      database.url,
      path.join(logDir, "ingest-crash-worker-1.log"),
    );
    const killDeadline = Date.now() + WORKER_TIMEOUT_MS;
    let running: { key: string; locked_by: string }[] = [];
    while (running.length === 0) {
      expect(Date.now(), "the worker took a score-series job").toBeLessThan(
        killDeadline,
      );
      expect(worker.exitCode, "the worker is running").toBeNull();
      ({ rows: running } = await client.query(
        `SELECT key, locked_by FROM graphile_worker.jobs
          WHERE task_identifier = 'score-series' AND locked_at IS NOT NULL`,
      ));
      if (running.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await killProcessGroup(worker);

    // The killed transactions left nothing behind.
    const afterKill = await readScoringState(client);
    const runningSeries = running.map((job) =>
      Number(job.key.replace("score-series:", "")),
    );
    for (const row of afterKill) {
      if (!runningSeries.includes(row.series_id)) continue;
      expect(row.scored_until, `series ${row.series_id} after the kill`).toBeNull();
      expect(Number(row.active_models)).toBe(0);
      expect(Number(row.scores)).toBe(0);
    }

    // A job locked by the killed worker is re-queued by enqueue-stale-series
    // only after STALE_LOCK_MINUTES, too long to wait for here. New points
    // add a fresh job at once, as a live sender does.
    worker = startWorker(
      database.url,
      path.join(logDir, "ingest-crash-worker-2.log"),
    );
    await sendWorkerPoints(baseUrl, token, [[Date.now() - 60_000, 100]]);
    const deadWorkers = running.map((job) => job.locked_by);
    const settled = await waitForScoring(client, deadWorkers);
    for (const row of settled) {
      expect(
        row.scored_until?.toISOString(),
        `series ${row.series_id} scored to its newest point`,
      ).toBe(row.newest.toISOString());
      expect(
        Number(row.active_models),
        `active models of series ${row.series_id}`,
      ).toBe(1);
      // Every point after the first model's training points.
      expect(Number(row.scores), `scores of series ${row.series_id}`).toBe(
        WORKER_POINTS_PER_SERIES + 1 - getConfig().VIGIL_MIN_TRAINING_POINTS,
      );
    }
    const incidents = await readIncidents(client);
    expect(incidents.length, "incidents opened by the spike").toBeGreaterThanOrEqual(
      WORKER_SERIES,
    );
    const keys = incidents.map((incident) => incident.dedup_key);
    expect(new Set(keys).size, `dedup keys ${keys.join(", ")}`).toBe(keys.length);
    const episodes = incidents.map(
      (incident) => `${incident.series_id}@${incident.opened_at.toISOString()}`,
    );
    expect(new Set(episodes).size, `episodes ${episodes.join(", ")}`).toBe(
      episodes.length,
    );

    // Scoring every series again changes nothing.
    await enqueueSeriesScoring(
      client,
      settled.map((row) => row.series_id),
      { delaySeconds: 0 },
    );
    const rescored = await waitForScoring(client, deadWorkers);
    expect(rescored).toEqual(settled);
    expect(await readIncidents(client)).toEqual(incidents);

    console.log(
      `worker crash: killed during ${running.map((job) => job.key).join(", ")}; ` +
        `${incidents.length} incidents after the restart`,
    );
  } finally {
    await client.end();
    if (worker?.pid !== undefined) await stopProcess(worker.pid);
    if (server?.pid !== undefined) await stopProcess(server.pid);
    await database.drop();
  }
});
