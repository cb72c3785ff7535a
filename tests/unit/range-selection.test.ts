import { describe, expect, it } from "vitest";

import {
  parseRangeBound,
  parseRangeSelection,
  trendBucketsFor,
} from "@/app/(dashboard)/_lib/search-params";
import { describeChange } from "@/components/kpi-card";

const NOW = new Date("2026-12-05T12:00:00Z");

describe("parseRangeSelection", () => {
  it("reads a preset", () => {
    const selection = parseRangeSelection({ range: "30d" }, NOW);

    expect(selection.key).toBe("30d");
    expect(selection.to).toEqual(NOW);
    expect(selection.from).toEqual(new Date("2026-11-05T12:00:00Z"));
    expect(selection.error).toBeUndefined();
  });

  it("reads a custom range of whole days", () => {
    const selection = parseRangeSelection(
      { range: "custom", from: "2026-11-01", to: "2026-11-14" },
      NOW,
    );

    expect(selection.key).toBe("custom");
    expect(selection.from).toEqual(new Date("2026-11-01T00:00:00Z"));
    expect(selection.to).toEqual(new Date("2026-11-15T00:00:00Z"));
    expect(selection.description).toBe("2026-11-01 to 2026-11-14");
    // 14 days in 6-hour buckets would be 56; daily buckets are not finer.
    expect(selection.trendBuckets).toBe(56);
    expect(selection.query).toEqual({
      range: "custom",
      from: "2026-11-01",
      to: "2026-11-14",
    });
  });

  it("reads a one-day range", () => {
    const selection = parseRangeSelection(
      { from: "2026-11-01", to: "2026-11-01" },
      NOW,
    );

    expect(selection.description).toBe("2026-11-01");
    expect(selection.trendBuckets).toBe(24);
  });

  it("reads exact timestamps", () => {
    const selection = parseRangeSelection(
      { from: "2026-11-01T06:00:00.000Z", to: "2026-11-01T18:30:00.000Z" },
      NOW,
    );

    expect(selection.from).toEqual(new Date("2026-11-01T06:00:00Z"));
    expect(selection.to).toEqual(new Date("2026-11-01T18:30:00Z"));
  });

  it.each([
    [{ range: "custom", to: "2026-11-01" }, /needs a start date/],
    [{ from: "2026-11-01" }, /needs an end date/],
    [{ from: "2026-02-30", to: "2026-03-01" }, /"2026-02-30" is not a valid date/],
    [{ from: "yesterday", to: "2026-03-01" }, /"yesterday" is not a valid date/],
    [{ from: "2026-03-01", to: "2026-13-01" }, /"2026-13-01" is not a valid date/],
    [{ from: "2026-03-02", to: "2026-03-01" }, /must not be before the start/],
    [{ from: "2020-01-01", to: "2026-03-01" }, /at most 400 days/],
  ])("rejects %j", (params, message) => {
    const selection = parseRangeSelection(params, NOW);

    expect(selection.error).toMatch(message);
    expect(selection.error).toMatch(/Showing the last 7 days instead\.$/);
    expect(selection.key).toBe("7d");
  });
});

describe("parseRangeBound", () => {
  it("ends a date at the next midnight", () => {
    expect(parseRangeBound("2026-12-31", "to")).toEqual(
      new Date("2027-01-01T00:00:00Z"),
    );
  });

  it("rejects a date without zone", () => {
    expect(parseRangeBound("2026-12-31T10:00:00", "from")).toBeNull();
  });
});

describe("trendBucketsFor", () => {
  it("picks finer buckets for shorter ranges", () => {
    const hour = 3_600_000;
    expect(trendBucketsFor(12 * hour)).toBe(12);
    expect(trendBucketsFor(30 * 24 * hour)).toBe(30);
    expect(trendBucketsFor(90 * 24 * hour)).toBe(30);
    expect(trendBucketsFor(400 * 24 * hour)).toBe(57);
  });
});

describe("describeChange", () => {
  it("marks lower MTTR as better", () => {
    expect(describeChange("mttr", 600, 1200)).toEqual({
      text: "\u221210 min",
      tone: "better",
    });
  });

  it("marks lower uptime as worse in points", () => {
    expect(describeChange("uptime", 0.99, 0.995)).toEqual({
      text: "\u22120.5 pp",
      tone: "worse",
    });
  });

  it("marks more deployments as better", () => {
    expect(describeChange("deploymentFrequency", 3, 2).tone).toBe("better");
  });

  it("marks a higher change failure rate as worse", () => {
    expect(describeChange("changeFailureRate", 0.5, 0.25)).toEqual({
      text: "+25 pp",
      tone: "worse",
    });
  });

  it("reports no change below the shown precision", () => {
    expect(describeChange("leadTime", 3600.2, 3600)).toEqual({
      text: "no change",
      tone: "same",
    });
  });
});
