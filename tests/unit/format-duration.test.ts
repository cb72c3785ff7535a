import { describe, expect, it } from "vitest";

import { formatDuration } from "@/components/format";

const S = 1000;

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [59.4 * S, "59 s"],
    [59.6 * S, "1 min"],
    [90 * S, "1 min 30 s"],
    [599.6 * S, "10 min"],
    [3576 * S, "1 h"],
    [3540 * S, "59 min"],
    [7170 * S, "2 h"],
    [7500 * S, "2 h 05 min"],
    [86_370 * S, "1 d"],
    [172_000 * S, "2 d"],
    [100_800 * S, "1 d 4 h"],
    [-5 * S, "0 s"],
  ])("formats %d ms as %s", (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });
});
