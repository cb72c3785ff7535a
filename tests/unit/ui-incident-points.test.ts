import { describe, expect, it } from "vitest";

import { deviationOf, onsetFromEventData } from "@/components/incident-points";
import { splitTimestamps } from "@/components/timestamp-text";

describe("splitTimestamps", () => {
  it("splits text around ISO timestamps", () => {
    const parts = splitTimestamps(
      "observed 76.23 (anomaly score 7.34, 2026-11-23T23:32:36.000Z).",
    );
    expect(parts).toEqual([
      { kind: "text", text: "observed 76.23 (anomaly score 7.34, " },
      { kind: "time", iso: "2026-11-23T23:32:36.000Z" },
      { kind: "text", text: ")." },
    ]);
  });

  it("finds several timestamps and offsets", () => {
    const parts = splitTimestamps(
      "2026-11-24T00:12:36Z to 2026-11-24T01:12+01:00",
    );
    expect(parts.map((part) => part.kind)).toEqual(["time", "text", "time"]);
    expect(parts[2]).toEqual({ kind: "time", iso: "2026-11-24T01:12+01:00" });
  });

  it("keeps text without timestamps whole", () => {
    expect(splitTimestamps("no time here")).toEqual([
      { kind: "text", text: "no time here" },
    ]);
  });

  it("leaves invalid dates as text", () => {
    expect(splitTimestamps("2026-13-45T99:99:00Z")).toEqual([
      { kind: "text", text: "2026-13-45T99:99:00Z" },
    ]);
  });

  it("returns nothing for empty text", () => {
    expect(splitTimestamps("")).toEqual([]);
  });
});

describe("onsetFromEventData", () => {
  const onset = {
    ts: "2026-11-23T23:32:36.000Z",
    value: 76.23,
    score: 7.34,
    expectedLow: 12.23,
    expectedHigh: 15.48,
  };

  it("reads the detector's onset point", () => {
    const point = onsetFromEventData({ dedupKey: "x", onset });
    expect(point?.ts.toISOString()).toBe(onset.ts);
    expect(point?.observed).toBe(76.23);
    expect(point?.score).toBe(7.34);
    expect(point?.expectedLow).toBe(12.23);
    expect(point?.expectedHigh).toBe(15.48);
  });

  it("accepts a missing expected range", () => {
    const point = onsetFromEventData({
      onset: { ...onset, expectedLow: null, expectedHigh: null },
    });
    expect(point?.expectedLow).toBeNull();
    expect(point?.expectedHigh).toBeNull();
  });

  it.each([
    ["no data", null],
    ["no onset", { dedupKey: "x" }],
    ["a bad time", { onset: { ...onset, ts: "yesterday" } }],
    ["a text value", { onset: { ...onset, value: "76" } }],
    ["no score", { onset: { ...onset, score: undefined } }],
  ])("returns null for %s", (_case, data) => {
    expect(onsetFromEventData(data)).toBeNull();
  });
});

describe("deviationOf", () => {
  const base = {
    ts: new Date(0),
    score: 2,
    expectedLow: 10,
    expectedHigh: 20,
  };

  it("measures a value above the range", () => {
    expect(deviationOf({ ...base, observed: 26 })).toEqual({
      direction: "above",
      distance: 6,
    });
  });

  it("measures a value below the range", () => {
    expect(deviationOf({ ...base, observed: 7.5 })).toEqual({
      direction: "below",
      distance: 2.5,
    });
  });

  it("returns null inside the range", () => {
    expect(deviationOf({ ...base, observed: 20 })).toBeNull();
  });

  it("returns null without a range", () => {
    expect(
      deviationOf({
        ...base,
        observed: 99,
        expectedLow: null,
        expectedHigh: null,
      }),
    ).toBeNull();
  });
});
