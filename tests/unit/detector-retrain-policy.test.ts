import { describe, expect, it } from "vitest";

import type { TrainingMetrics } from "@/lib/detector/model";
import {
  binShares,
  candidateServes,
  DEFAULT_RETRAIN_POLICY,
  holdoutSize,
  meanSquaredError,
  measureDrift,
  retrainReason,
} from "@/lib/detector/retrain-policy";

// The retraining policy's pure decisions and drift measures, on hand-made
// training metrics.

const policy = DEFAULT_RETRAIN_POLICY;
const noDrift = { inputPsi: 0.01, scorePsi: 0.01 };

/** Training metrics of a model trained on the values 1..100. */
function metricsOf(values: number[]): TrainingMetrics {
  const sorted = [...values].sort((a, b) => a - b);
  const decile = (tenth: number) =>
    sorted[Math.round((sorted.length - 1) * tenth)]!;
  const inputDeciles = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => decile(t / 10));
  return {
    finalLoss: 0.1,
    lossHistory: [0.1],
    epochs: 1,
    trainingWindows: values.length,
    errorQuantiles: { p50: 0.2, p90: 0.5, p99: 1, p999: 1.5 },
    errorMax: 2,
    threshold: 1.5,
    params: {} as TrainingMetrics["params"],
    inputDeciles,
    inputShares: binShares(values, inputDeciles),
  };
}

const ramp = Array.from({ length: 100 }, (_, i) => i + 1);

describe("measureDrift", () => {
  it("measures little drift on the training distribution", () => {
    const drift = measureDrift(metricsOf(ramp), ramp, [0.1, 0.2, 0.3]);

    expect(drift.inputPsi).toBeLessThan(0.01);
    expect(drift.scorePsi).not.toBeNull();
  });

  it("measures drift on shifted values", () => {
    const shifted = ramp.map((value) => value + 80);

    const drift = measureDrift(metricsOf(ramp), shifted, []);

    expect(drift.inputPsi).toBeGreaterThan(policy.driftThreshold);
    expect(drift.scorePsi).toBeNull();
  });

  it("measures no drift on a flat series that stays flat", () => {
    const flat = new Array(100).fill(7);

    const same = measureDrift(metricsOf(flat), flat, []);
    const moved = measureDrift(metricsOf(flat), flat.map((v) => v + 1), []);

    expect(same.inputPsi).toBeLessThan(0.01);
    expect(moved.inputPsi).toBeGreaterThan(policy.driftThreshold);
  });

  it("measures score drift against the error quantiles", () => {
    // Raw scores are error / threshold, so 2 is above every quantile.
    const high = new Array(50).fill(2);

    const drift = measureDrift(metricsOf(ramp), [], high);

    expect(drift.inputPsi).toBeNull();
    expect(drift.scorePsi).toBeGreaterThan(1);
  });
});

describe("retrainReason", () => {
  it("retrains on schedule", () => {
    expect(retrainReason(policy.scheduleEveryPoints, noDrift)).toBe("schedule");
    expect(retrainReason(policy.scheduleEveryPoints - 1, noDrift)).toBeNull();
  });

  it("retrains a young model once its history doubles", () => {
    expect(retrainReason(200, noDrift, policy, 200)).toBe("schedule");
    expect(retrainReason(199, noDrift, policy, 200)).toBeNull();
    expect(retrainReason(2000, noDrift, policy, 5000)).toBeNull();
  });

  it("retrains on input drift after the minimum", () => {
    const drifted = { inputPsi: policy.driftThreshold, scorePsi: null };

    expect(retrainReason(policy.minPointsBeforeDrift, drifted)).toBe("drift");
    expect(retrainReason(policy.minPointsBeforeDrift - 1, drifted)).toBeNull();
  });

  it("ignores score drift alone", () => {
    const drifted = { inputPsi: 0, scorePsi: 10 };

    expect(retrainReason(policy.minPointsBeforeDrift, drifted)).toBeNull();
  });
});

describe("candidateServes", () => {
  it("accepts a candidate within the tolerance", () => {
    expect(candidateServes(1, 1 + policy.tolerance)).toBe(true);
    expect(candidateServes(1, 0.5)).toBe(true);
  });

  it("rejects a worse or broken candidate", () => {
    expect(candidateServes(1, 1.2)).toBe(false);
    expect(candidateServes(1, Number.NaN)).toBe(false);
  });

  it("accepts any finite candidate over a broken model", () => {
    expect(candidateServes(Number.NaN, 3)).toBe(true);
  });
});

describe("holdoutSize and meanSquaredError", () => {
  it("holds out at most a quarter of the history", () => {
    expect(holdoutSize(10_000)).toBe(policy.holdoutPoints);
    expect(holdoutSize(400)).toBe(100);
  });

  it("averages squared residuals", () => {
    expect(meanSquaredError([1, -3])).toBe(5);
    expect(meanSquaredError([])).toBeNaN();
  });
});
