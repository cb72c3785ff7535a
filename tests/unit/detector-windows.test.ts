import { describe, expect, it } from "vitest";

import { packInputs } from "@/lib/detector/windows";

// packInputs on a series whose value is its own index, so every packed
// number names the position it came from.

const units = Float32Array.from({ length: 40 }, (_, index) => index);

describe("packInputs", () => {
  it("packs the recent window alone without a season", () => {
    const packed = packInputs(
      units,
      { windowSize: 3, seasonLag: 0, seasonHalfWidth: 0 },
      [5, 9],
    );

    expect(Array.from(packed)).toEqual([2, 3, 4, 6, 7, 8]);
  });

  it("appends the values around one season earlier", () => {
    const packed = packInputs(
      units,
      { windowSize: 2, seasonLag: 10, seasonHalfWidth: 1 },
      [20, 31],
    );

    expect(Array.from(packed)).toEqual([18, 19, 9, 10, 11, 29, 30, 20, 21, 22]);
  });

  it("rejects a target without enough history", () => {
    expect(() =>
      packInputs(units, { windowSize: 2, seasonLag: 10, seasonHalfWidth: 1 }, [10]),
    ).toThrow(RangeError);
  });
});
