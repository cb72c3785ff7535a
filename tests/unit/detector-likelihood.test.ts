import { describe, expect, it } from "vitest";

import {
  LikelihoodTracker,
  scoreDeviations,
  type LikelihoodParams,
} from "@/lib/detector/likelihood";

// Small cases worked out by hand. With averageSpan 2 the short-term value
// is the mean of the last two scores. The history contains the short-term
// values before the current one.

const SMALL: LikelihoodParams = {
  averageSpan: 2,
  historyPoints: 10,
  minHistory: 3,
  minDeviation: 0.5,
};

describe("anomaly likelihood", () => {
  it("gives no z before minHistory values", () => {
    expect(scoreDeviations([1, 1, 1], [], SMALL)).toEqual([null, null, null]);
  });

  it("gives z 0 for a steady series", () => {
    // Averages 1, 1, 1, then the 4th average (1) against mean 1.
    expect(scoreDeviations([1, 1, 1, 1], [], SMALL)).toEqual([
      null,
      null,
      null,
      0,
    ]);
  });

  it("floors the deviation at minDeviation", () => {
    // The 5th average is (1 + 3) / 2 = 2; the history 1, 1, 1, 1 has mean 1
    // and deviation 0, floored to 0.5: z = (2 - 1) / 0.5 = 2.
    expect(scoreDeviations([1, 1, 1, 1, 3], [], SMALL).at(-1)).toBe(2);
  });

  it("uses the history's own spread", () => {
    // Averages of 0, 2, 0, 2: 0, 1, 1, 1 (the first is the lone 0). Mean
    // 0.75, deviation sqrt(0.1875) = 0.4330, floored to 0.5. The 5th
    // average is (2 + 6) / 2 = 4: z = (4 - 0.75) / 0.5 = 6.5.
    const z = scoreDeviations([0, 2, 0, 2, 6], [], SMALL).at(-1)!;
    expect(z).toBeCloseTo(6.5, 10);

    const wide = { ...SMALL, minDeviation: 0.01 };
    const widened = scoreDeviations([0, 2, 0, 2, 6], [], wide).at(-1)!;
    expect(widened).toBeCloseTo(3.25 / Math.sqrt(0.1875), 10);
  });

  it("forgets values past historyPoints", () => {
    const short = { ...SMALL, historyPoints: 3 };
    // Averages 10, 10, 5.5, 1, 1, 1, 1. At the 7th point the history
    // contains only the three before it (1, 1, 1), so its average of 1 gives
    // z 0, although the mean of all earlier averages is well above 1.
    const z = scoreDeviations([10, 10, 1, 1, 1, 1, 1], [], short);
    expect(z.at(-1)).toBe(0);
  });

  it("continues from previous scores as in one pass", () => {
    const scores = [0.2, 0.4, 0.1, 0.3, 0.9, 0.2, 0.5, 2.5, 0.3, 0.4];
    const whole = scoreDeviations(scores, [], SMALL);
    const second = scoreDeviations(scores.slice(6), scores.slice(0, 6), SMALL);
    expect(second).toEqual(whole.slice(6));
  });

  it("depends only on earlier scores", () => {
    const tracker = new LikelihoodTracker(SMALL);
    const first = [1, 2, 1, 2, 1].map((score) => tracker.push(score));
    const other = scoreDeviations([1, 2, 1, 2, 1, 50, 50], [], SMALL);
    expect(other.slice(0, 5)).toEqual(first);
  });
});
