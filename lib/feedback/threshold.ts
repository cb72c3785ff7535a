import {
  DEFAULT_SETTINGS,
  deviationToAnomalyScore,
  OUT_OF_RANGE_DEVIATION,
} from "@/lib/detector/pipeline";

// The alarm threshold of a series, derived from the feedback on its
// incidents. The detector marks a point anomalous when its anomaly
// likelihood is at or above the threshold, so an incident whose peak
// likelihood is below the threshold does not open again on a rescore.
//
// The rule, over the newest verdict of each incident of the series:
// 1. With no false alarm the series keeps the default threshold (null).
// 2. Otherwise the candidate is the peak likelihood of the highest false
//    alarm, moved up by MARGIN_DEVIATIONS on the deviation scale that
//    deviationToAnomalyScore maps to the likelihood. The margin is on that
//    scale because the likelihood squeezes large deviations close to 1.
// 3. The candidate never exceeds the lowest peak likelihood of a confirmed
//    real anomaly, so that anomaly would still be detected, nor
//    MAX_ALARM_THRESHOLD. A real anomaly whose peak is below the default
//    threshold sets no limit, because the default would not detect it
//    either.
// 4. Feedback never lowers the threshold below the default. A value equal
//    to the default is returned as null.
// Verdicts on incidents without a known peak are skipped.
// The result depends only on the set of verdicts, not on their order, and
// applying it twice gives the same threshold.

/** Standard deviations between a false alarm's peak and the threshold. */
export const MARGIN_DEVIATIONS = 1;

/**
 * Highest threshold feedback may set: the likelihood the detector gives a
 * value outside the range seen so far (OUT_OF_RANGE_DEVIATION). A higher
 * threshold would stop a series from ever alarming on a new extreme after
 * one false alarm there, so feedback cannot silence out-of-range values.
 */
export const MAX_ALARM_THRESHOLD = deviationToAnomalyScore(
  OUT_OF_RANGE_DEVIATION,
);

export type FeedbackPeak = {
  verdict: "real" | "false_alarm";
  /** Highest anomaly likelihood of the incident's points, in [0, 1], or
   * null when none of them was scored. */
  peakLikelihood: number | null;
};

/** Search range of the inverse, in standard deviations; the mapping is
 * flat to double precision outside it. */
const DEVIATION_SEARCH_LIMIT = 400;

/**
 * Inverts deviationToAnomalyScore by bisection, so the rule keeps working
 * if the detector changes that strictly increasing mapping. Returns the
 * search limit for likelihoods at the ends of the range.
 */
export function likelihoodToDeviation(likelihood: number): number {
  let low = -DEVIATION_SEARCH_LIMIT;
  let high = DEVIATION_SEARCH_LIMIT;
  if (likelihood <= deviationToAnomalyScore(low)) return low;
  if (likelihood >= deviationToAnomalyScore(high)) return high;
  for (let step = 0; step < 100; step += 1) {
    const middle = (low + high) / 2;
    if (deviationToAnomalyScore(middle) < likelihood) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * Derives a series' alarm threshold from the newest verdict of each of its
 * incidents. Returns null when the default threshold applies.
 */
export function thresholdFromFeedback(
  feedback: readonly FeedbackPeak[],
  defaultThreshold: number = DEFAULT_SETTINGS.alarmThreshold,
): number | null {
  let highestFalseAlarm: number | null = null;
  let lowestReal = Number.POSITIVE_INFINITY;
  for (const entry of feedback) {
    if (entry.peakLikelihood === null) continue;
    if (!Number.isFinite(entry.peakLikelihood)) {
      throw new RangeError(
        `peakLikelihood must be a finite number, got ${entry.peakLikelihood}`,
      );
    }
    if (entry.verdict === "false_alarm") {
      highestFalseAlarm = Math.max(
        highestFalseAlarm ?? Number.NEGATIVE_INFINITY,
        entry.peakLikelihood,
      );
    } else if (entry.peakLikelihood >= defaultThreshold) {
      lowestReal = Math.min(lowestReal, entry.peakLikelihood);
    }
  }
  if (highestFalseAlarm === null) return null;

  const candidate = deviationToAnomalyScore(
    likelihoodToDeviation(highestFalseAlarm) + MARGIN_DEVIATIONS,
  );
  const threshold = Math.max(
    defaultThreshold,
    Math.min(candidate, lowestReal, MAX_ALARM_THRESHOLD),
  );
  return threshold === defaultThreshold ? null : threshold;
}
