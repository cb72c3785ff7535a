import { getConfig } from "@/lib/config";
import { scoreDeviations } from "@/lib/detector/likelihood";
import {
  disposeModel,
  loadModel,
  scoreSeries,
  trainModel,
} from "@/lib/detector/model";

// Detectors for the NAB evaluation. Each one turns the values of one series,
// in file order, into one anomaly_score in [0, 1] per row. All are strictly
// online: a row's score depends only on that row and earlier rows. All are
// deterministic, because the vigil model trains with fixed seeds and the
// rest is plain arithmetic.
//
// vigil-likelihood is the vigil model's scores compared with the series' own
// history (lib/detector/likelihood.ts). NOTE: the worker does not use the
// likelihood yet, so vigil is the detector that matches production.

export const DETECTOR_NAMES = ["vigil", "vigil-likelihood", "zscore"] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** Rows in the z-score baseline's trailing window: a day at 5-minute steps. */
export const ZSCORE_WINDOW_ROWS = 288;

export type VigilRunOptions = {
  /** Points the model trains on, VIGIL_MIN_TRAINING_POINTS by default. */
  minTrainingPoints?: number;
};

export type VigilRun = {
  scores: number[];
  /** Time spent in trainModel, in milliseconds. */
  trainingMs: number;
  /** The model's threshold on the RMS forecast error, in normalised units. */
  threshold: number | null;
};

/**
 * Maps a z of any sign to (0, 1) with 0.5 + tanh(z / 10) / 2, which is
 * strictly increasing, so the NAB sweep ranks rows by z. Dividing by 10
 * keeps z up to about 150 apart in double precision.
 */
export function deviationToUnitScore(z: number): number {
  return 0.5 + 0.5 * Math.tanh(z / 10);
}

/**
 * Maps a non-negative ratio (a forecast error over its threshold, or |z|) to
 * [0, 1) with r / (1 + r). The map is strictly increasing, so the NAB
 * threshold sweep ranks rows in the same order, and a ratio of 1 maps to 0.5.
 * An infinite ratio maps to 1.
 */
export function ratioToUnitScore(ratio: number): number {
  if (ratio === Number.POSITIVE_INFINITY) return 1;
  return ratio / (1 + ratio);
}

function assertFinite(values: readonly number[]): void {
  const row = values.findIndex((value) => !Number.isFinite(value));
  if (row >= 0) {
    throw new Error(
      `row ${row}: value ${values[row]} is not a finite number`,
    );
  }
}

/**
 * Scores a series with the worker's detector, simulating a series that
 * arrives one row at a time.
 *
 * The worker (workers/score-series.ts) trains a model once its series has
 * VIGIL_MIN_TRAINING_POINTS points, on those points, and scores the points
 * after them with that model. Here the model trains on the first
 * `minTrainingPoints` rows with trainModel and DEFAULT_PARAMS, as the worker
 * does, and scoreSeries scores every later row. Rows before that get 0.
 *
 * NOTE: on its first run the worker also scores the training points with
 * the model trained on them. Those scores depend on later rows, so here
 * they are 0.
 *
 * scoreSeries returns score = error / threshold, where error is the RMS of
 * the last errorSpan forecast residuals and the worker flags score > 1. The
 * anomaly_score of a row is ratioToUnitScore(score), so the worker's
 * threshold sits at 0.5 and the order of rows is kept.
 */
export async function vigilScores(
  values: readonly number[],
  options: VigilRunOptions & { likelihood?: boolean } = {},
): Promise<VigilRun> {
  assertFinite(values);
  const trainingPoints =
    options.minTrainingPoints ?? getConfig().VIGIL_MIN_TRAINING_POINTS;
  const scores: number[] = new Array<number>(values.length).fill(0);
  if (values.length <= trainingPoints) {
    return { scores, trainingMs: 0, threshold: null };
  }

  const started = performance.now();
  const record = await trainModel(values.slice(0, trainingPoints));
  const trainingMs = performance.now() - started;

  const model = await loadModel(record);
  try {
    const points = scoreSeries(model, values, trainingPoints);
    if (options.likelihood) {
      // Rows whose history is still too short for a z score 0, like rows
      // before training.
      const deviations = scoreDeviations(points.map((point) => point.score));
      points.forEach((point, i) => {
        const z = deviations[i] ?? null;
        scores[point.index] = z === null ? 0 : deviationToUnitScore(z);
      });
    } else {
      for (const point of points) {
        scores[point.index] = ratioToUnitScore(point.score);
      }
    }
  } finally {
    disposeModel(model);
  }
  return { scores, trainingMs, threshold: record.threshold };
}

/**
 * Scores a series with a rolling z-score: z = (x - mean) / std, where mean
 * and the population standard deviation come from the `windowRows` rows
 * before x (not x itself). The anomaly_score is ratioToUnitScore(|z|). Rows
 * before the window is full get 0. When every row of the window has the same
 * value, a row equal to it gets 0 and any other row gets 1.
 */
export function zscoreScores(
  values: readonly number[],
  windowRows: number = ZSCORE_WINDOW_ROWS,
): number[] {
  if (!Number.isInteger(windowRows) || windowRows < 2) {
    throw new Error(
      `the z-score window must be an integer of at least 2 rows, got ${windowRows}`,
    );
  }
  assertFinite(values);
  const scores: number[] = new Array<number>(values.length).fill(0);

  // Two passes over each window instead of running sums, because running
  // sums of squares lose precision on large byte counts. The cost, one
  // window per row, is small for NAB-sized files.
  for (let row = windowRows; row < values.length; row += 1) {
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let back = 1; back <= windowRows; back += 1) {
      const value = values[row - back]!;
      sum += value;
      min = Math.min(min, value);
      max = Math.max(max, value);
    }
    const mean = sum / windowRows;

    // Compare with the window itself: a rounded mean of equal values can
    // differ from them in the last bit and give a tiny nonzero std.
    if (min === max) {
      scores[row] = values[row] === min ? 0 : 1;
      continue;
    }

    let squares = 0;
    for (let back = 1; back <= windowRows; back += 1) {
      squares += (values[row - back]! - mean) ** 2;
    }
    const std = Math.sqrt(squares / windowRows);

    scores[row] = ratioToUnitScore(Math.abs(values[row]! - mean) / std);
  }
  return scores;
}
