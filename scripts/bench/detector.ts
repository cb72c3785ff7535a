import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import {
  loadBenchSeries,
  median,
  quantileOf,
  ROOT,
  type ChildJob,
  type ChildResult,
  type ModelFigures,
  type Peaks,
  type PhaseJob,
  type WorkerJobFigures,
} from "./detector-measure";

// npm run bench:detector: speed and memory of the worker's anomaly model on
// a 4,000-point NAB series, for each TensorFlow.js backend installed, with
// the rolling z-score baseline of the NAB evaluation as the reference in the
// same run. Each backend, the baseline and the database job run in their own
// child process (scripts/bench/detector-run.ts), so that memory figures do
// not carry over. From the figures it derives how many series at one point a
// minute one worker core keeps up with.

const { values: args } = parseArgs({
  options: {
    file: {
      type: "string",
      default: "data/nab/realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv",
    },
    points: { type: "string", default: "4000" },
    repeats: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    calls: { type: "string", default: "40" },
    backends: { type: "string", default: "wasm,tensorflow" },
  },
});

function positive(name: "points" | "repeats" | "seconds" | "calls"): number {
  const value = Number(args[name]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`--${name} must be a positive number, got ${args[name]}`);
  }
  return value;
}

/** Package that provides each backend, when it is not a dependency of Vigil. */
const OPTIONAL_BACKEND_PACKAGES: Record<string, string> = {
  tensorflow: "@tensorflow/tfjs-node",
};
const KNOWN_BACKENDS = ["wasm", "tensorflow", "cpu"];

function isInstalled(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

function runChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "scripts/bench/detector-run.ts"), JSON.stringify(job)],
      {
        cwd: ROOT,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        // Backend and model lines at info would interleave with the tables.
        env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" },
      },
    );
    let result: ChildResult | undefined;
    child.on("message", (message) => {
      result = message as ChildResult;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0 || !result) {
        reject(new Error(`detector benchmark step ${job.kind} exited with code ${code}`));
        return;
      }
      resolve(result);
    });
  });
}

const MB = 1024 * 1024;

function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function formatPeaks(peaks: Peaks, tracksTensors: boolean): string {
  const tensors = tracksTensors
    ? `, tensors ${formatNumber(peaks.tensorBytesPeak / MB, 2)} MB, ${peaks.tensorsAfter} tensors allocated at the end`
    : "";
  return (
    `RSS ${formatNumber(peaks.rssPeak / MB)} MB (${formatNumber(peaks.rssBefore / MB)} at start), ` +
    `heap ${formatNumber(peaks.heapUsedPeak / MB)} MB${tensors}, ` +
    `CPU/wall ${formatNumber(peaks.cpuPerWall, 2)}`
  );
}

type Summary = {
  name: string;
  trainingMs: number | null;
  pointsPerSecond: number;
  pointCallMs: number;
  pointCallP99Ms: number;
  figures: ModelFigures;
};

function summarize(name: string, figures: ModelFigures): Summary {
  return {
    name,
    trainingMs: figures.trainingMs.length > 0 ? median(figures.trainingMs) : null,
    pointsPerSecond: median(figures.scoringRates),
    pointCallMs: median(figures.pointCallRunMedians),
    pointCallP99Ms: quantileOf(figures.pointCallMs, 0.99),
    figures,
  };
}

function printDetector(summary: Summary, tracksTensors: boolean): void {
  const { figures } = summary;
  console.log(`\n${summary.name}`);
  if (summary.trainingMs === null) {
    console.log("  training:           none (the window statistics are the model)");
  } else {
    const runs = figures.trainingMs.map((ms) => formatNumber(ms)).join(", ");
    console.log(`  training:           ${formatNumber(summary.trainingMs)} ms median (runs ${runs})`);
    console.log(`    memory:           ${formatPeaks(figures.trainingPeaks, tracksTensors)}`);
  }
  const rates = figures.scoringRates.map((rate) => formatNumber(rate)).join(", ");
  console.log(`  scoring:            ${formatNumber(summary.pointsPerSecond)} points/s median (runs ${rates})`);
  console.log(`    memory:           ${formatPeaks(figures.scoringPeaks, tracksTensors)}`);
  console.log(
    `  one new point:      ${formatNumber(summary.pointCallMs, 3)} ms median, ` +
      `p99 ${formatNumber(summary.pointCallP99Ms, 3)} ms over ${figures.pointCallMs.length} calls`,
  );
  console.log(`    memory:           ${formatPeaks(figures.pointPeaks, tracksTensors)}`);
}

function printRatios(vigil: Summary, zscore: Summary): void {
  console.log(`\nratio ${vigil.name} / z-score`);
  console.log(
    `  scoring points/s:   ${formatNumber(vigil.pointsPerSecond / zscore.pointsPerSecond, 3)}`,
  );
  console.log(`  one new point ms:   ${formatNumber(vigil.pointCallMs / zscore.pointCallMs, 1)}`);
  console.log(
    `  peak RSS scoring:   ${formatNumber(vigil.figures.scoringPeaks.rssPeak / zscore.figures.scoringPeaks.rssPeak, 2)}`,
  );
}

function printWorkerJob(
  figures: WorkerJobFigures,
  vigil: Summary | undefined,
  zscore: Summary,
): void {
  const pointJobMs = median(figures.pointJobRunMedians);
  const firstJobMs = median(figures.firstJobMs);
  console.log(`\nworker job (runScoreSeries on PostgreSQL, backend ${figures.backend})`);
  const firstRuns = figures.firstJobMs.map((ms) => formatNumber(ms)).join(", ");
  console.log(`  first job:          ${formatNumber(firstJobMs)} ms median (runs ${firstRuns}): train, store, score 4,000-point backlog`);
  console.log(`    memory:           ${formatPeaks(figures.firstJobPeaks, true)}`);
  console.log(
    `  one-point job:      ${formatNumber(pointJobMs, 2)} ms median, ` +
      `p99 ${formatNumber(quantileOf(figures.pointJobMs, 0.99), 2)} ms over ${figures.pointJobMs.length} jobs`,
  );
  console.log(`    memory:           ${formatPeaks(figures.pointJobPeaks, true)}`);

  console.log("\nseries at one point a minute per worker core");
  console.log("  formula: series = 60,000 ms / (median one-point job ms)");
  console.log(`  vigil:              ${formatNumber(60_000 / pointJobMs)} series`);
  if (vigil) {
    // The job's fixed part: transaction, lock, queries, inserts, episodes.
    const overheadMs = Math.max(pointJobMs - vigil.pointCallMs, 0);
    console.log(
      `  fixed overhead:     ${formatNumber(overheadMs, 2)} ms per job ` +
        `(one-point job ${formatNumber(pointJobMs, 2)} ms - model call ${formatNumber(vigil.pointCallMs, 3)} ms)`,
    );
    const zscoreJobMs = overheadMs + zscore.pointCallMs;
    console.log(
      `  z-score estimate:   ${formatNumber(60_000 / zscoreJobMs)} series ` +
        `(60,000 / (${formatNumber(overheadMs, 2)} + ${formatNumber(zscore.pointCallMs, 3)}) ms)`,
    );
  }
  console.log("\nretrainings per hour per worker core");
  if (vigil?.trainingMs) {
    console.log(
      `  training only:      ${formatNumber(3_600_000 / vigil.trainingMs)} (3,600,000 ms / ${formatNumber(vigil.trainingMs)} ms)`,
    );
  }
  console.log(
    `  first job:          ${formatNumber(3_600_000 / firstJobMs)} (3,600,000 ms / ${formatNumber(firstJobMs)} ms, with loading, storing and scoring)`,
  );
}

async function main(): Promise<void> {
  const phase: PhaseJob = {
    file: args.file!,
    points: positive("points"),
    repeats: Math.round(positive("repeats")),
    seconds: positive("seconds"),
  };
  const calls = Math.round(positive("calls"));
  const backends = args.backends!.split(",").map((name) => name.trim());
  for (const backend of backends) {
    if (!KNOWN_BACKENDS.includes(backend)) {
      throw new Error(`--backends must list only ${KNOWN_BACKENDS.join(", ")}, got ${backend}`);
    }
  }
  const series = loadBenchSeries(phase.file, phase.points);
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";

  console.log("npm run bench:detector");
  console.log(
    `series: ${phase.file}, ${series.rows} rows, ` +
      `${series.rows >= phase.points ? "truncated" : "padded"} to ${phase.points} points`,
  );
  console.log(`machine: ${os.cpus().length} cores (${cpu}), Node.js ${process.version}`);
  console.log(
    `each timing is the median of ${phase.repeats} runs, and throughput and latency runs last at least ${phase.seconds} s`,
  );

  const summaries: Summary[] = [];
  for (const backend of backends) {
    const packageName = OPTIONAL_BACKEND_PACKAGES[backend];
    if (packageName && !isInstalled(packageName)) {
      console.log(`\nvigil model, backend ${backend}: not installed (${packageName})`);
      continue;
    }
    const result = await runChild({ kind: "model", backend, ...phase });
    if (result.kind !== "model") throw new Error(`expected a model result from the child process, got ${result.kind}`);
    const summary = summarize(`vigil model, backend ${result.figures.backend}`, result.figures);
    printDetector(summary, true);
    summaries.push(summary);
  }

  const zscoreResult = await runChild({ kind: "zscore", ...phase });
  if (zscoreResult.kind !== "zscore") throw new Error(`expected a zscore result from the child process, got ${zscoreResult.kind}`);
  const zscore = summarize("rolling z-score baseline (reference)", zscoreResult.figures);
  printDetector(zscore, false);
  for (const summary of summaries) printRatios(summary, zscore);

  const jobResult = await runChild({ kind: "worker-job", calls, ...phase });
  if (jobResult.kind !== "worker-job") throw new Error(`expected a worker-job result from the child process, got ${jobResult.kind}`);
  const jobBackend = summaries.find(
    (summary) => summary.figures.backend === jobResult.figures.backend,
  );
  printWorkerJob(jobResult.figures, jobBackend, zscore);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
