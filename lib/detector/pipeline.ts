import {
  scoreSeries,
  type LoadedModel,
  type PointScore,
} from "@/lib/detector/model";

// The detector as the worker and the NAB evaluation both run it: the
// model's raw score per point, turned into an anomaly score in [0, 1] by
// comparing the recent raw scores with the series' own history, and the
// alarm decision. The state between calls is small and JSON-serialisable,
// so the worker stores it with scored_until in the scoring transaction.
// Scoring a stream in chunks with the state carried over gives exactly the
// same results as scoring it in one call.

/** Detector state after the points scored so far. */
export type DetectorState = {
  version: 1;
  /** Newest raw scores, oldest first, at most RECENT_SPAN of them. */
  recent: number[];
  /** Short-term averages seen so far, capped at HISTORY_SPAN for the
   * exponential weights. */
  count: number;
  /** Exponentially weighted mean and variance of the short-term average. */
  mean: number;
  variance: number;
};

export type DetectorSettings = {
  /** Anomaly score at or above which a point is anomalous. Feedback on
   * false alarms raises it per series. */
  alarmThreshold: number;
};

export type DetectedPoint = PointScore & {
  /** Position in the `values` passed to scoreStream. */
  index: number;
  /** Anomaly score in [0, 1]: 0.5 for a usual point, towards 1 as the
   * recent raw scores leave the series' own history. 0 during warm-up. */
  anomalyScore: number;
  /** Standard deviations of the recent raw scores above their history,
   * null during warm-up. */
  deviation: number | null;
};

/** Raw scores averaged into the short-term value. */
export const RECENT_SPAN = 6;
/** Weight span of the history, in points: a week of 5-minute data. */
export const HISTORY_SPAN = 2016;
/** Short-term averages needed before an anomaly score is given. */
export const WARM_UP_POINTS = 100;
/** Smallest standard deviation used, in raw score units. */
const MIN_DEVIATION = 0.05;

export const DEFAULT_SETTINGS: DetectorSettings = { alarmThreshold: 0.9 };

export function initialDetectorState(): DetectorState {
  return { version: 1, recent: [], count: 0, mean: 0, variance: 0 };
}

/** Maps a deviation of any sign to (0, 1), strictly increasing. */
export function deviationToAnomalyScore(z: number): number {
  return 0.5 + 0.5 * Math.tanh(z / 10);
}

/**
 * Returns the next state and the point's deviation after one raw score.
 * The deviation compares with the history before the point.
 */
function advance(
  state: DetectorState,
  raw: number,
): { state: DetectorState; deviation: number | null } {
  const recent = [...state.recent, raw].slice(-RECENT_SPAN);
  let total = 0;
  for (const value of recent) total += value;
  const average = total / recent.length;

  let deviation: number | null = null;
  if (state.count >= WARM_UP_POINTS) {
    const spread = Math.max(Math.sqrt(state.variance), MIN_DEVIATION);
    deviation = (average - state.mean) / spread;
  }

  // Welford-style update with weight 1 / n up to HISTORY_SPAN, then a fixed
  // exponential weight, so the first week is a plain mean.
  const count = Math.min(state.count + 1, HISTORY_SPAN);
  const weight = 1 / count;
  const delta = average - state.mean;
  const mean = state.mean + weight * delta;
  const variance = (1 - weight) * (state.variance + weight * delta * delta);
  return {
    state: { version: 1, recent, count, mean, variance },
    deviation,
  };
}

/**
 * Scores values[startIndex..] with the model and turns each raw score into
 * an anomaly score, continuing from `state`. Earlier values only feed the
 * model's input windows.
 */
export function scoreStream(
  model: LoadedModel,
  values: readonly number[],
  startIndex: number,
  state: DetectorState,
  settings: DetectorSettings = DEFAULT_SETTINGS,
): { points: DetectedPoint[]; state: DetectorState } {
  const raw = scoreSeries(model, values, startIndex);
  let current = state;
  const points = raw.map((point) => {
    const step = advance(current, point.score);
    current = step.state;
    const anomalyScore =
      step.deviation === null ? 0 : deviationToAnomalyScore(step.deviation);
    return {
      ...point,
      anomalyScore,
      deviation: step.deviation,
      isAnomaly: anomalyScore >= settings.alarmThreshold,
    };
  });
  return { points, state: current };
}

/** Checks a stored state and returns it, or a fresh state when it is
 * missing or from another version of this code. */
export function parseDetectorState(stored: unknown): DetectorState {
  if (
    typeof stored === "object" &&
    stored !== null &&
    (stored as { version?: unknown }).version === 1 &&
    Array.isArray((stored as { recent?: unknown }).recent)
  ) {
    return stored as DetectorState;
  }
  return initialDetectorState();
}
