import { describe, expect, it } from "vitest";

import {
  DEFAULT_SETTINGS,
  deviationToAnomalyScore,
  OUT_OF_RANGE_DEVIATION,
} from "@/lib/detector/pipeline";
import {
  likelihoodToDeviation,
  MARGIN_DEVIATIONS,
  MAX_ALARM_THRESHOLD,
  thresholdFromFeedback,
  type FeedbackPeak,
} from "@/lib/feedback/threshold";

const DEFAULT = DEFAULT_SETTINGS.alarmThreshold;

/** Returns the likelihood MARGIN_DEVIATIONS above `likelihood`. */
function marginAbove(likelihood: number): number {
  return deviationToAnomalyScore(
    likelihoodToDeviation(likelihood) + MARGIN_DEVIATIONS,
  );
}

const falseAlarm = (peakLikelihood: number): FeedbackPeak => ({
  verdict: "false_alarm",
  peakLikelihood,
});
const real = (peakLikelihood: number): FeedbackPeak => ({
  verdict: "real",
  peakLikelihood,
});

describe("likelihoodToDeviation", () => {
  it("inverts the detector's mapping", () => {
    for (const deviation of [-30, -2.5, 0, 1, 11, 23.7, 40]) {
      const likelihood = deviationToAnomalyScore(deviation);
      expect(likelihoodToDeviation(likelihood)).toBeCloseTo(deviation, 6);
    }
  });

  it("clamps likelihoods at the ends", () => {
    expect(likelihoodToDeviation(1)).toBe(400);
    expect(likelihoodToDeviation(0)).toBe(-400);
  });
});

describe("thresholdFromFeedback", () => {
  it("keeps the default without feedback", () => {
    expect(thresholdFromFeedback([])).toBeNull();
  });

  it("keeps the default with only real anomalies", () => {
    expect(thresholdFromFeedback([real(0.93), real(0.99)])).toBeNull();
  });

  it("rises above a false alarm by the margin", () => {
    const threshold = thresholdFromFeedback([falseAlarm(0.95)]);

    expect(threshold).toBeCloseTo(marginAbove(0.95), 12);
    expect(threshold!).toBeGreaterThan(0.95);
  });

  it("clears the highest false alarm", () => {
    const threshold = thresholdFromFeedback([
      falseAlarm(0.92),
      falseAlarm(0.97),
      falseAlarm(0.94),
    ]);

    expect(threshold).toBeCloseTo(marginAbove(0.97), 12);
  });

  it("stays at or below every real peak", () => {
    const threshold = thresholdFromFeedback([
      falseAlarm(0.97),
      real(0.972),
      real(0.99),
    ]);

    expect(threshold).toBe(0.972);
  });

  it("lets a real peak below a false alarm win", () => {
    expect(thresholdFromFeedback([falseAlarm(0.97), real(0.95)])).toBe(0.95);
  });

  it("caps the threshold", () => {
    expect(thresholdFromFeedback([falseAlarm(0.9995)])).toBe(
      MAX_ALARM_THRESHOLD,
    );
    expect(thresholdFromFeedback([falseAlarm(1)])).toBe(MAX_ALARM_THRESHOLD);
  });

  it("keeps out-of-range values alarming", () => {
    const outOfRange = deviationToAnomalyScore(OUT_OF_RANGE_DEVIATION);

    const threshold = thresholdFromFeedback([falseAlarm(outOfRange)]);

    expect(threshold).toBe(MAX_ALARM_THRESHOLD);
    expect(outOfRange).toBeGreaterThanOrEqual(threshold!);
  });

  it("never goes below the default", () => {
    // Two standard deviations below the default, so the margin stays below.
    const low = deviationToAnomalyScore(likelihoodToDeviation(DEFAULT) - 2);

    expect(thresholdFromFeedback([falseAlarm(low)])).toBeNull();
    expect(thresholdFromFeedback([falseAlarm(low), real(0.95)])).toBeNull();
  });

  it("ignores real peaks below the default", () => {
    expect(thresholdFromFeedback([falseAlarm(0.95), real(0.6)])).toBeCloseTo(
      marginAbove(0.95),
      12,
    );
  });

  it("skips verdicts without a peak", () => {
    const unknown: FeedbackPeak[] = [
      { verdict: "false_alarm", peakLikelihood: null },
      { verdict: "real", peakLikelihood: null },
    ];

    expect(thresholdFromFeedback(unknown)).toBeNull();
    expect(thresholdFromFeedback([...unknown, falseAlarm(0.95)])).toBeCloseTo(
      marginAbove(0.95),
      12,
    );
  });

  it("takes a custom default", () => {
    expect(thresholdFromFeedback([falseAlarm(0.95)], 0.98)).toBeNull();
    expect(thresholdFromFeedback([falseAlarm(0.99)], 0.98)).toBeCloseTo(
      marginAbove(0.99),
      12,
    );
  });

  it("ignores the order of the verdicts", () => {
    const verdicts = [
      falseAlarm(0.93),
      real(0.985),
      falseAlarm(0.96),
      real(0.999),
      falseAlarm(0.91),
    ];
    const expected = thresholdFromFeedback(verdicts);
    for (let shift = 1; shift < verdicts.length; shift += 1) {
      const rotated = [...verdicts.slice(shift), ...verdicts.slice(0, shift)];
      expect(thresholdFromFeedback(rotated)).toBe(expected);
    }
    expect(thresholdFromFeedback([...verdicts].reverse())).toBe(expected);
  });

  it("gives the same result twice", () => {
    const verdicts = [falseAlarm(0.96), real(0.99)];
    const first = thresholdFromFeedback(verdicts);

    expect(thresholdFromFeedback(verdicts)).toBe(first);
    expect(thresholdFromFeedback([...verdicts, ...verdicts])).toBe(first);
  });

  it("rejects a peak that is not a number", () => {
    expect(() => thresholdFromFeedback([falseAlarm(Number.NaN)])).toThrow(
      /peakLikelihood must be a finite number/,
    );
  });

  it("default is below the test peaks", () => {
    // The cases above assume that peaks from 0.91 up raise an alarm.
    expect(DEFAULT).toBeLessThan(0.91);
    expect(DEFAULT).toBeLessThan(MAX_ALARM_THRESHOLD);
  });
});
