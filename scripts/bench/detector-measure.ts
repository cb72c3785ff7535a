import { readFileSync } from "node:fs";
import path from "node:path";

import * as tf from "@tensorflow/tfjs";

import { parseNabRows } from "@/lib/nab/dataset";

// Shared parts of npm run bench:detector: the benchmark series, the job and
// result types passed between the parent and its child processes, medians,
// and a sampler of peak memory and CPU time during one phase.

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** The 5-minute spacing of the NAB AWS CloudWatch files. */
export const NAB_STEP_MS = 5 * 60 * 1000;

export type BenchSeries = { file: string; rows: number; values: number[] };

/**
 * Loads a NAB CSV (path relative to the repository) and truncates it, or
 * pads it by repeating it from its first row, to exactly `points` values.
 */
export function loadBenchSeries(file: string, points: number): BenchSeries {
  const text = readFileSync(path.resolve(ROOT, file), "utf8");
  const source = parseNabRows(text, file).map((row) => row.value);
  const values = Array.from(
    { length: points },
    (_, index) => source[index % source.length]!,
  );
  return { file, rows: source.length, values };
}

export type PhaseJob = {
  file: string;
  points: number;
  repeats: number;
  /** Minimum wall time of each throughput and latency run, in seconds. */
  seconds: number;
};

export type ChildJob =
  | ({ kind: "model"; backend: string } & PhaseJob)
  | ({ kind: "zscore" } & PhaseJob)
  | ({ kind: "worker-job"; calls: number } & PhaseJob);

export type Peaks = {
  /** Process RSS when the phase started, in bytes. */
  rssBefore: number;
  rssPeak: number;
  heapUsedPeak: number;
  /** Bytes held by TensorFlow.js tensors (tf.memory().numBytes). */
  tensorBytesPeak: number;
  /** Tensors still allocated when the phase ended. A count that grows from phase to phase means a leak. */
  tensorsAfter: number;
  /** Process CPU time over wall time, so 1.0 is one core fully busy. */
  cpuPerWall: number;
};

export type ModelFigures = {
  backend: string;
  trainingMs: number[];
  trainingPeaks: Peaks;
  /** Points per second of each scoring run. */
  scoringRates: number[];
  scoringPeaks: Peaks;
  /** Milliseconds of every one-point call, all runs together. */
  pointCallMs: number[];
  /** Median of each latency run. */
  pointCallRunMedians: number[];
  pointPeaks: Peaks;
};

export type WorkerJobFigures = {
  backend: string;
  /** First job on a series: train, store the model, score the backlog. */
  firstJobMs: number[];
  firstJobPeaks: Peaks;
  /** Jobs that each score one new point. */
  pointJobMs: number[];
  pointJobRunMedians: number[];
  pointJobPeaks: Peaks;
};

export type ChildResult =
  | { kind: "model"; figures: ModelFigures }
  | { kind: "zscore"; figures: ModelFigures }
  | { kind: "worker-job"; figures: WorkerJobFigures };

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank quantile of a non-empty list, q in [0, 1]. */
export function quantileOf(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantile of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/**
 * Tracks peak RSS, V8 heap and tensor bytes during a phase. A 5 ms timer
 * samples while the event loop is free, and callers also call sample()
 * after each step, because scoring runs synchronously and blocks the timer.
 */
export class PhaseSampler {
  private readonly rssBefore = process.memoryUsage.rss();
  private readonly cpuStart = process.cpuUsage();
  private readonly wallStart = performance.now();
  private rssPeak = 0;
  private heapUsedPeak = 0;
  private tensorBytesPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly tracksTensors: boolean) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 5);
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.rssPeak = Math.max(this.rssPeak, usage.rss);
    this.heapUsedPeak = Math.max(this.heapUsedPeak, usage.heapUsed);
    if (this.tracksTensors) {
      this.tensorBytesPeak = Math.max(
        this.tensorBytesPeak,
        tf.memory().numBytes,
      );
    }
  }

  stop(): Peaks {
    this.sample();
    clearInterval(this.timer);
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = performance.now() - this.wallStart;
    return {
      rssBefore: this.rssBefore,
      rssPeak: this.rssPeak,
      heapUsedPeak: this.heapUsedPeak,
      tensorBytesPeak: this.tensorBytesPeak,
      tensorsAfter: this.tracksTensors ? tf.memory().numTensors : 0,
      cpuPerWall: (cpu.user + cpu.system) / 1000 / wallMs,
    };
  }
}

/** Gives the sampler's timer a turn between synchronous steps. */
export function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
