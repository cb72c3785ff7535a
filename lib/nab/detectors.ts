import { getConfig } from "@/lib/config";
import { replaySeries, type Retraining } from "@/lib/detector/replay";

// Detectors for the NAB evaluation. Each one turns the values of one series,
// in file order, into one anomaly_score in [0, 1] per row. All are strictly
// online: a row's score depends only on that row and earlier rows. All are
// deterministic, because the vigil model trains with fixed seeds and the
// rest is plain arithmetic.

export const DETECTOR_NAMES = ["vigil", "zscore"] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** Rows in the z-score baseline's trailing window: a day at 5-minute steps. */
export const ZSCORE_WINDOW_ROWS = 288;

export type VigilRunOptions = {
  /** Points the first model trains on, VIGIL_MIN_TRAINING_POINTS by default. */
  minTrainingPoints?: number;
};

export type VigilRun = {
  scores: number[];
  /** Time spent in trainModel, first model and candidates, in milliseconds. */
  trainingMs: number;
  retrainings: Retraining[];
};

/**
 * Maps a non-negative ratio (here |z|) to [0, 1) with r / (1 + r). The map is
 * strictly increasing, so the NAB threshold sweep ranks rows in the same
 * order, and a ratio of 1 maps to 0.5. An infinite ratio maps to 1.
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
 * Scores a series with the worker's detector (replaySeries), as if its rows
 * arrived one at a time. A row's anomaly_score is the production
 * anomalyScore. Rows before the first model is trained, and the training
 * rows themselves, get 0.
 */
export async function vigilScores(
  values: readonly number[],
  options: VigilRunOptions = {},
): Promise<VigilRun> {
  assertFinite(values);
  const minTrainingPoints =
    options.minTrainingPoints ?? getConfig().VIGIL_MIN_TRAINING_POINTS;
  const scores: number[] = new Array<number>(values.length).fill(0);
  const replay = await replaySeries(values, { minTrainingPoints });
  for (const point of replay.points) {
    scores[point.index] = point.anomalyScore;
  }
  return {
    scores,
    trainingMs: replay.trainingMs,
    retrainings: replay.retrainings,
  };
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
