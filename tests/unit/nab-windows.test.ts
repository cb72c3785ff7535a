import { describe, expect, it } from "vitest";

import { describeWindows, formatFileWindows } from "@/lib/nab/windows";

// describeWindows on a 100-row file: probation is its first 15 rows, and
// the windows are rows 40 to 49 and 70 to 79.

function file(scores: Record<number, number>) {
  return {
    category: "realTest",
    name: "a.csv",
    scores: Array.from({ length: 100 }, (_, row) => scores[row] ?? 0),
    windows: [
      [40, 49],
      [70, 79],
    ] as [number, number][],
  };
}

describe("describeWindows", () => {
  it("finds the first detection per window", () => {
    const described = describeWindows(file({ 42: 0.8, 45: 0.9, 75: 0.3 }), 0.5);

    expect(described.windows).toEqual([
      { start: 40, end: 49, firstDetection: 2, peak: 0.9 },
      { start: 70, end: 79, firstDetection: null, peak: 0.3 },
    ]);
    expect(described.falsePositiveRows).toEqual([]);
  });

  it("lists detections outside windows after probation", () => {
    const described = describeWindows(file({ 5: 0.9, 20: 0.6, 90: 0.5 }), 0.5);

    expect(described.falsePositiveRows).toEqual([20, 90]);
  });

  it("detects nothing without a threshold", () => {
    const described = describeWindows(file({ 42: 0.9, 20: 0.9 }), null);

    expect(described.windows[0]!.firstDetection).toBeNull();
    expect(described.windows[0]!.peak).toBe(0.9);
    expect(described.falsePositiveRows).toEqual([]);
  });

  it("formats one line per file", () => {
    const line = formatFileWindows(
      describeWindows(file({ 20: 0.6, 42: 0.8 }), 0.5),
    );

    expect(line).toBe(
      "realTest/a.csv: 1 false positive (rows 20); " +
        "[40-49] hit at +2, peak 0.8000; [70-79] missed, peak 0.0000",
    );
  });
});
