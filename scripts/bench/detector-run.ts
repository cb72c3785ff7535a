import { createRequire } from "node:module";
import path from "node:path";

import pg from "pg";

import { initBackend, tf } from "@/lib/detector/backend";
import {
  disposeModel,
  firstScoredIndex,
  loadModel,
  scoreSeries,
  trainModel,
  type ModelRecord,
} from "@/lib/detector/model";
import { initialDetectorState, scoreStream } from "@/lib/detector/pipeline";
import { logger } from "@/lib/logger";
import { ZSCORE_WINDOW_ROWS, zscoreScores } from "@/lib/nab/detectors";
import { createTestDatabase } from "@/tests/support/database";
import { runScoreSeries } from "@/workers/score-series";

import {
  loadBenchSeries,
  median,
  NAB_STEP_MS,
  PhaseSampler,
  yieldToTimers,
  type ChildJob,
  type ChildResult,
  type ModelFigures,
  type PhaseJob,
  type WorkerJobFigures,
} from "./detector-measure";

// One measured part of npm run bench:detector, run in its own process so
// that each backend's memory figures start from a fresh process. The job
// comes as JSON in argv[2] and the figures go back over the IPC channel.

const log = logger.child({ bench: "detector" });

/**
 * Switches TensorFlow.js to `backend` after initBackend has chosen its
 * default, so the bench can measure a backend other than the fastest one.
 */
async function useBackend(backend: string): Promise<void> {
  await initBackend();
  if (tf.getBackend() === backend) return;
  if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve(
      "@tensorflow/tfjs-backend-wasm/package.json",
    );
    wasm.setWasmPaths(path.join(path.dirname(packageJson), "dist") + path.sep);
  }
  if (!(await tf.setBackend(backend))) {
    throw new Error(`TensorFlow.js backend "${backend}" failed to start`);
  }
  await tf.ready();
}

/** Calls per latency run at most, so that the list of durations stays small. */
const MAX_LATENCY_CALLS = 20_000;

/**
 * Calls `step` until `seconds` have passed (at least once) or `maxCalls`
 * calls are done, and returns the calls' durations in ms.
 */
async function repeatFor(
  seconds: number,
  sampler: PhaseSampler,
  step: () => Promise<void> | void,
  maxCalls = Number.POSITIVE_INFINITY,
): Promise<number[]> {
  const durations: number[] = [];
  const started = performance.now();
  do {
    const callStarted = performance.now();
    await step();
    durations.push(performance.now() - callStarted);
    sampler.sample();
    await yieldToTimers();
  } while (
    performance.now() - started < seconds * 1000 &&
    durations.length < maxCalls
  );
  return durations;
}

async function measureModel(
  job: PhaseJob & { backend: string },
): Promise<ModelFigures> {
  await useBackend(job.backend);
  const { values } = loadBenchSeries(job.file, job.points);

  // One untimed training and scoring pass compiles the wasm kernels.
  let record: ModelRecord = await trainModel(values);
  const warm = await loadModel(record);
  scoreSeries(warm, values, 0);
  disposeModel(warm);

  const trainingMs: number[] = [];
  let sampler = new PhaseSampler(true);
  for (let run = 0; run < job.repeats; run += 1) {
    const started = performance.now();
    record = await trainModel(values);
    trainingMs.push(performance.now() - started);
    sampler.sample();
  }
  const trainingPeaks = sampler.stop();

  // Scoring as the worker does it: load the stored record, score, dispose.
  const scoringRates: number[] = [];
  sampler = new PhaseSampler(true);
  for (let run = 0; run < job.repeats; run += 1) {
    let scored = 0;
    const durations = await repeatFor(job.seconds, sampler, async () => {
      const model = await loadModel(record);
      try {
        scored += scoreStream(model, values, 0, initialDetectorState()).points
          .length;
      } finally {
        disposeModel(model);
      }
    });
    const seconds = durations.reduce((sum, ms) => sum + ms, 0) / 1000;
    scoringRates.push(scored / seconds);
  }
  const scoringPeaks = sampler.stop();

  // One new point with the context the worker loads before it.
  const context = firstScoredIndex(record.metrics.params);
  const pointCallMs: number[] = [];
  const pointCallRunMedians: number[] = [];
  sampler = new PhaseSampler(true);
  for (let run = 0; run < job.repeats; run += 1) {
    let offset = 0;
    const durations = await repeatFor(job.seconds, sampler, async () => {
      const end = context + 1 + (offset % (values.length - context));
      offset += 1;
      const model = await loadModel(record);
      try {
        const scores = scoreStream(
          model,
          values.slice(end - context - 1, end),
          context,
          initialDetectorState(),
        ).points;
        if (scores.length !== 1) {
          throw new Error(`expected 1 score for one new point, got ${scores.length}`);
        }
      } finally {
        disposeModel(model);
      }
    }, MAX_LATENCY_CALLS);
    for (const ms of durations) pointCallMs.push(ms);
    pointCallRunMedians.push(median(durations));
  }
  const pointPeaks = sampler.stop();

  return {
    backend: tf.getBackend(),
    trainingMs,
    trainingPeaks,
    scoringRates,
    scoringPeaks,
    pointCallMs,
    pointCallRunMedians,
    pointPeaks,
  };
}

async function measureZscore(job: PhaseJob): Promise<ModelFigures> {
  const { values } = loadBenchSeries(job.file, job.points);
  zscoreScores(values);

  const scoringRates: number[] = [];
  let sampler = new PhaseSampler(false);
  for (let run = 0; run < job.repeats; run += 1) {
    let scored = 0;
    const durations = await repeatFor(job.seconds, sampler, () => {
      zscoreScores(values);
      scored += values.length - ZSCORE_WINDOW_ROWS;
    });
    const seconds = durations.reduce((sum, ms) => sum + ms, 0) / 1000;
    scoringRates.push(scored / seconds);
  }
  const scoringPeaks = sampler.stop();

  // One new point needs the window before it.
  const pointCallMs: number[] = [];
  const pointCallRunMedians: number[] = [];
  sampler = new PhaseSampler(false);
  for (let run = 0; run < job.repeats; run += 1) {
    let offset = 0;
    const span = ZSCORE_WINDOW_ROWS + 1;
    const durations = await repeatFor(job.seconds, sampler, () => {
      const end = span + (offset % (values.length - span));
      offset += 1;
      zscoreScores(values.slice(end - span, end));
    }, MAX_LATENCY_CALLS);
    for (const ms of durations) pointCallMs.push(ms);
    pointCallRunMedians.push(median(durations));
  }
  const pointPeaks = sampler.stop();

  return {
    backend: "none (plain JavaScript)",
    trainingMs: [],
    trainingPeaks: scoringPeaks,
    scoringRates,
    scoringPeaks,
    pointCallMs,
    pointCallRunMedians,
    pointPeaks,
  };
}

async function seedSeries(
  db: pg.Client,
  serviceId: number,
  name: string,
  values: readonly number[],
  startMs: number,
): Promise<number> {
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, '{}'::jsonb, '{}') RETURNING id`,
    [serviceId, name],
  );
  const seriesId = created.rows[0]!.id;
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, to_timestamp(($2::float8 + (p.n - 1) * $3) / 1000), p.value
       FROM unnest($4::float8[]) WITH ORDINALITY AS p(value, n)`,
    [seriesId, startMs, NAB_STEP_MS, values],
  );
  return seriesId;
}

/**
 * Times runScoreSeries against a fresh database: first jobs that train,
 * store and score a 4,000-point backlog, then jobs that each score one
 * point inserted just before them. Only runScoreSeries is timed.
 */
async function measureWorkerJob(
  job: PhaseJob & { calls: number },
): Promise<WorkerJobFigures> {
  const backend = await initBackend();
  const { values } = loadBenchSeries(job.file, job.points);
  // The series ends now, so that it looks like live data.
  const startMs =
    Math.floor(Date.now() / NAB_STEP_MS) * NAB_STEP_MS -
    values.length * NAB_STEP_MS;

  const database = await createTestDatabase("bench_detector");
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    const service = await db.query<{ id: number }>(
      `INSERT INTO service (slug, name) VALUES ('bench', 'Bench') RETURNING id`,
    );
    const serviceId = service.rows[0]!.id;

    // A warm-up series first, so that kernel compilation is not timed.
    const seriesIds: number[] = [];
    for (let run = 0; run <= job.repeats; run += 1) {
      seriesIds.push(
        await seedSeries(db, serviceId, `bench_series_${run}`, values, startMs),
      );
    }
    await db.query("ANALYZE data_point");
    await runScoreSeries(db, seriesIds[0]!, log);

    const firstJobMs: number[] = [];
    let sampler = new PhaseSampler(true);
    for (const seriesId of seriesIds.slice(1)) {
      const started = performance.now();
      const result = await runScoreSeries(db, seriesId, log);
      firstJobMs.push(performance.now() - started);
      sampler.sample();
      if (!result.trained) {
        throw new Error(`series ${seriesId}: the first job did not train a model`);
      }
    }
    const firstJobPeaks = sampler.stop();

    // New points continue the NAB file after the first `points` rows.
    const seriesId = seriesIds[1]!;
    const { values: continued } = loadBenchSeries(
      job.file,
      job.points + job.repeats * job.calls,
    );
    let next = job.points;
    const pointJobMs: number[] = [];
    const pointJobRunMedians: number[] = [];
    sampler = new PhaseSampler(true);
    for (let run = 0; run < job.repeats; run += 1) {
      const durations: number[] = [];
      for (let call = 0; call < job.calls; call += 1) {
        await db.query(
          `INSERT INTO data_point (series_id, ts, value)
           VALUES ($1, to_timestamp($2::float8 / 1000), $3)`,
          [seriesId, startMs + next * NAB_STEP_MS, continued[next]],
        );
        next += 1;
        const started = performance.now();
        const result = await runScoreSeries(db, seriesId, log);
        durations.push(performance.now() - started);
        sampler.sample();
        if (result.scoredPoints !== 1) {
          throw new Error(
            `series ${seriesId}: expected 1 scored point per job, got ${result.scoredPoints}`,
          );
        }
      }
      for (const ms of durations) pointJobMs.push(ms);
      pointJobRunMedians.push(median(durations));
    }
    const pointJobPeaks = sampler.stop();

    return {
      backend,
      firstJobMs,
      firstJobPeaks,
      pointJobMs,
      pointJobRunMedians,
      pointJobPeaks,
    };
  } finally {
    await db.end();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "null") as ChildJob | null;
  if (!job || !process.send) {
    throw new Error(
      "detector-run.ts is started by scripts/bench/detector.ts with a job in argv[2] and an IPC channel",
    );
  }
  let result: ChildResult;
  if (job.kind === "model") {
    result = { kind: "model", figures: await measureModel(job) };
  } else if (job.kind === "zscore") {
    result = { kind: "zscore", figures: await measureZscore(job) };
  } else {
    result = { kind: "worker-job", figures: await measureWorkerJob(job) };
  }
  await new Promise<void>((resolve, reject) =>
    process.send!(result, (error: Error | null) =>
      error ? reject(error) : resolve(),
    ),
  );
}

// The open IPC channel would keep the process alive, so it is closed on
// success and on failure alike.
main()
  .catch((error: unknown) => {
    log.error({ err: error }, "detector benchmark step failed");
    process.exitCode = 1;
  })
  .finally(() => process.disconnect?.());
