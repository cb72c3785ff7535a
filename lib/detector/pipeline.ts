import {
  scoreSeries,
  type LoadedModel,
  type PointScore,
} from "@/lib/detector/model";

// The detector as the worker and the NAB evaluation both run it. Each point
// gets the model's raw score, its forecast error over the model's
// threshold. Its anomaly score in [0, 1] compares the mean of the last
// RECENT_SPAN raw scores with the series' own history of that mean, in
// standard deviations (the deviation). So a noisy series, whose raw scores
// are always high, needs a larger error to alarm than a quiet one. Two
// rules sit on top:
// - A value outside the range seen so far, widened by RANGE_TOLERANCE of
//   its width on each side, gets at least OUT_OF_RANGE_DEVIATION. The asinh
//   normalisation compresses values far from the training data, so the
//   forecast error understates them.
// - After an alarm, the next QUIET_POINTS points cannot alarm: their
//   anomaly score is halved, which puts it below 0.5 and so below the
//   threshold of any deviation of 0 or more. One incident then stands for
//   one anomaly instead of paging again for every point of it.
// The state between calls is O(1) and JSON-serialisable, so the worker
// stores it with scored_until in the scoring transaction. Scoring a stream
// in chunks with the state carried over gives exactly the same results as
// scoring it in one call.

/** Detector state after the points scored so far. */
export type DetectorState = {
  version: 2;
  /** Newest raw scores, oldest first, at most RECENT_SPAN of them. */
  recent: number[];
  /** Short-term means seen so far, capped at HISTORY_SPAN for the
   * exponential weights. */
  count: number;
  /** Exponentially weighted mean and variance of the short-term mean. */
  mean: number;
  variance: number;
  /** Smallest and largest value scored so far, null before the first. */
  low: number | null;
  high: number | null;
  /** Points scored since the last alarm, null before the first alarm. */
  sinceAlarm: number | null;
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
   * recent raw scores leave the series' own history. 0 during warm-up, and
   * halved during the quiet period after an alarm. */
  anomalyScore: number;
  /** Standard deviations of the recent raw scores above their history,
   * raised to OUT_OF_RANGE_DEVIATION for a value out of range; null during
   * warm-up. */
  deviation: number | null;
  /** Whether the value is outside the range seen before it. */
  outOfRange: boolean;
};

/** Raw scores averaged into the short-term mean. */
export const RECENT_SPAN = 10;
/** Weight span of the history, in points: a week of 5-minute data. */
export const HISTORY_SPAN = 2016;
/** Short-term means needed before an anomaly score is given. */
export const WARM_UP_POINTS = 100;
/** Smallest standard deviation used, in raw score units. */
const MIN_DEVIATION = 0.05;
/** Share of the seen range's width added on each side before a value
 * counts as out of range. 0.05 is SPATIAL_TOLERANCE in NAB's threshold
 * detector (htm-community/NAB, nab/detectors/threshold/threshold_detector.py),
 * which copies the rule of Numenta's NuPIC-based detector. */
export const RANGE_TOLERANCE = 0.05;
/** Points scored before the range check starts: a day of 5-minute data,
 * so that a daily cycle has been seen whole. */
export const RANGE_WARM_UP_POINTS = 288;
/** Deviation given to an out-of-range value, unless its own is higher. It
 * maps to an anomaly score of about 0.9975, so feedback can still raise a
 * series' threshold above it. */
export const OUT_OF_RANGE_DEVIATION = 30;
/** Points after an alarm that cannot alarm again: 12 hours of 5-minute
 * data. On NAB, 288 points hid windows that followed a false alarm. */
export const QUIET_POINTS = 144;

/** Maps a deviation of any sign to (0, 1), strictly increasing. */
export function deviationToAnomalyScore(z: number): number {
  return 0.5 + 0.5 * Math.tanh(z / 10);
}

/** Deviation of the default alarm threshold. The NAB threshold sweep on
 * the AWS CloudWatch and artificial files, standard profile, picked about
 * 0.733, which is a deviation of 5.05. */
export const DEFAULT_ALARM_DEVIATION = 5;

export const DEFAULT_SETTINGS: DetectorSettings = {
  alarmThreshold: deviationToAnomalyScore(DEFAULT_ALARM_DEVIATION),
};

export function initialDetectorState(): DetectorState {
  return {
    version: 2,
    recent: [],
    count: 0,
    mean: 0,
    variance: 0,
    low: null,
    high: null,
    sinceAlarm: null,
  };
}

/** Returns whether `value` lies outside [low, high] widened by
 * RANGE_TOLERANCE, once the range has seen RANGE_WARM_UP_POINTS values. */
function outsideRange(state: DetectorState, value: number): boolean {
  if (state.count < RANGE_WARM_UP_POINTS) return false;
  if (state.low === null || state.high === null) return false;
  const width = state.high - state.low;
  if (width <= 0) return false;
  const margin = width * RANGE_TOLERANCE;
  return value > state.high + margin || value < state.low - margin;
}

/**
 * Adds one raw score to the history in `state`, which it updates in place,
 * and returns the short-term mean's deviation against the history before
 * the point, or null during warm-up.
 */
function advanceHistory(state: DetectorState, raw: number): number | null {
  state.recent.push(raw);
  if (state.recent.length > RECENT_SPAN) state.recent.shift();
  let total = 0;
  for (const value of state.recent) total += value;
  const average = total / state.recent.length;

  let deviation: number | null = null;
  if (state.count >= WARM_UP_POINTS) {
    const spread = Math.max(Math.sqrt(state.variance), MIN_DEVIATION);
    deviation = (average - state.mean) / spread;
  }

  // Welford-style update with weight 1 / n up to HISTORY_SPAN, then a fixed
  // exponential weight, so the first week is a plain mean.
  state.count = Math.min(state.count + 1, HISTORY_SPAN);
  const weight = 1 / state.count;
  const delta = average - state.mean;
  state.mean += weight * delta;
  state.variance = (1 - weight) * (state.variance + weight * delta * delta);
  return deviation;
}

/** Scores one point and advances `state`, which it updates in place. */
function detectPoint(
  state: DetectorState,
  point: PointScore & { index: number },
  value: number,
  settings: DetectorSettings,
): DetectedPoint {
  // The range check compares with the values before this one.
  const outsideBefore = outsideRange(state, value);
  const own = advanceHistory(state, point.score);
  const outOfRange = own !== null && outsideBefore;
  const deviation =
    own === null
      ? null
      : outOfRange
        ? Math.max(own, OUT_OF_RANGE_DEVIATION)
        : own;

  const quiet = state.sinceAlarm !== null && state.sinceAlarm < QUIET_POINTS;
  let anomalyScore = deviation === null ? 0 : deviationToAnomalyScore(deviation);
  if (quiet) anomalyScore /= 2;
  const isAnomaly = anomalyScore >= settings.alarmThreshold;

  if (isAnomaly) state.sinceAlarm = 0;
  else if (state.sinceAlarm !== null) state.sinceAlarm += 1;
  state.low = state.low === null ? value : Math.min(state.low, value);
  state.high = state.high === null ? value : Math.max(state.high, value);
  return { ...point, anomalyScore, deviation, outOfRange, isAnomaly };
}

/**
 * Scores values[startIndex..] with the model and turns each raw score into
 * an anomaly score, continuing from `state`. Earlier values only feed the
 * model's input windows, so the worker passes firstScoredIndex(params) of
 * them.
 */
export function scoreStream(
  model: LoadedModel,
  values: readonly number[],
  startIndex: number,
  state: DetectorState,
  settings: DetectorSettings = DEFAULT_SETTINGS,
): { points: DetectedPoint[]; state: DetectorState } {
  const raw = scoreSeries(model, values, startIndex);
  // One copy per call, updated in place, so the caller's state is kept.
  const current: DetectorState = { ...state, recent: [...state.recent] };
  const points = raw.map((point) =>
    detectPoint(current, point, values[point.index]!, settings),
  );
  return { points, state: current };
}

/**
 * Rescales the raw-score history in `state` by `factor`, for a new model
 * whose raw scores are `factor` times the old model's on the same points.
 * Without it a retrained model, whose threshold comes from its own training
 * errors, shifts every deviation. The range and the quiet period stay.
 */
export function rescaleDetectorState(
  state: DetectorState,
  factor: number,
): DetectorState {
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new RangeError(
      `the raw score scale factor must be a positive number, got ${factor}`,
    );
  }
  return {
    ...state,
    recent: state.recent.map((score) => score * factor),
    mean: state.mean * factor,
    variance: state.variance * factor * factor,
  };
}

const isNumber = (value: unknown) =>
  typeof value === "number" && Number.isFinite(value);
const isNumberOrNull = (value: unknown) => value === null || isNumber(value);

/** Checks a stored state and returns it, or a fresh state when it is
 * missing, malformed or from another version of this code. */
export function parseDetectorState(stored: unknown): DetectorState {
  if (typeof stored !== "object" || stored === null) {
    return initialDetectorState();
  }
  const state = stored as Record<string, unknown>;
  const valid =
    state.version === 2 &&
    Array.isArray(state.recent) &&
    state.recent.every(isNumber) &&
    isNumber(state.count) &&
    isNumber(state.mean) &&
    isNumber(state.variance) &&
    isNumberOrNull(state.low) &&
    isNumberOrNull(state.high) &&
    isNumberOrNull(state.sinceAlarm);
  return valid ? (stored as DetectorState) : initialDetectorState();
}
