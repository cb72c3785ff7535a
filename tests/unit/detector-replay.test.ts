import { beforeAll, describe, expect, it } from "vitest";

import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import { replaySeries, type ReplayResult } from "@/lib/detector/replay";
import { rescaleDetectorState, initialDetectorState } from "@/lib/detector/pipeline";
import { seededRandom } from "@/lib/detector/windows";

// replaySeries on a daily-like sine wave (period 288 points) with noise,
// whose first model trains on 200 points and is retrained as it grows.

function periodicSeries(length: number, seed = 3): number[] {
  const random = seededRandom(seed);
  const gaussian = () =>
    Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from(
    { length },
    (_, t) => 50 + 10 * Math.sin((2 * Math.PI * t) / 288) + 0.5 * gaussian(),
  );
}

describe("replaySeries", () => {
  const values = periodicSeries(1400);
  let first: ReplayResult;
  let second: ReplayResult;

  beforeAll(async () => {
    first = await replaySeries(values, { minTrainingPoints: 200 });
    second = await replaySeries(values, { minTrainingPoints: 200 });
  });

  it("scores every value after the first training", () => {
    expect(first.points).toHaveLength(1200);
    expect(first.points[0]!.index).toBe(200);
    expect(first.points.at(-1)!.index).toBe(1399);
  });

  it("retrains a young model as its history doubles", () => {
    const checks = first.retrainings.map((retraining) => retraining.atIndex);

    expect(checks[0]).toBe(200 + DEFAULT_RETRAIN_POLICY.checkEveryPoints);
    expect(first.retrainings.every((r) => r.reason === "schedule")).toBe(true);
    expect(first.retrainings.length).toBeGreaterThanOrEqual(2);
    for (const retraining of first.retrainings) {
      expect(Number.isFinite(retraining.currentError)).toBe(true);
      expect(Number.isFinite(retraining.candidateError)).toBe(true);
    }
  });

  it("repeats the same results", () => {
    expect(second.points).toEqual(first.points);
    expect(second.retrainings).toEqual(first.retrainings);
  });

  it("raises no alarm on the clean series", () => {
    expect(first.points.filter((point) => point.isAnomaly)).toEqual([]);
  });

  it("returns nothing for a series too short to train", async () => {
    const result = await replaySeries(values.slice(0, 200), {
      minTrainingPoints: 200,
    });

    expect(result.points).toEqual([]);
    expect(result.retrainings).toEqual([]);
  });
});

describe("rescaleDetectorState", () => {
  it("scales the raw-score history only", () => {
    const state = {
      ...initialDetectorState(),
      recent: [1, 2],
      count: 5,
      mean: 1.5,
      variance: 0.25,
      low: 3,
      high: 9,
      sinceAlarm: 4,
    };

    const scaled = rescaleDetectorState(state, 2);

    expect(scaled).toEqual({ ...state, recent: [2, 4], mean: 3, variance: 1 });
  });

  it("rejects a factor that is not positive", () => {
    expect(() => rescaleDetectorState(initialDetectorState(), 0)).toThrow(
      "the raw score scale factor must be a positive number, got 0",
    );
  });
});
