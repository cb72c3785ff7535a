import { describe, expect, it } from "vitest";

import { parseRangeBound } from "@/app/(dashboard)/_lib/search-params";
import { ApiError } from "@/lib/api/errors";
import {
  MAX_REPORT_DAYS,
  parseIsoTime,
  parseReportPeriod,
  parseServiceSlugs,
} from "@/lib/reports/selection";
import { isoWeekLabel, isoWeekStart, splitIsoWeeks } from "@/lib/reports/weeks";

// ISO weeks and the period parameters of reports, without a database.

const NOW = new Date("2026-12-05T10:30:00Z");

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error.field;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("ISO weeks", () => {
  it("labels weeks at year edges", () => {
    // 2026-12-28 is a Monday whose Thursday lies in 2026: week 53.
    expect(isoWeekLabel(Date.parse("2026-12-28T00:00:00Z"))).toBe("2026-W53");
    // 2027-01-04 starts week 1 of 2027.
    expect(isoWeekLabel(Date.parse("2027-01-04T00:00:00Z"))).toBe("2027-W01");
    // 2024-12-30 is a Monday whose Thursday is 2025-01-02: week 1 of 2025.
    expect(isoWeekLabel(Date.parse("2024-12-30T00:00:00Z"))).toBe("2025-W01");
  });

  it("finds the Monday of a Sunday", () => {
    const monday = isoWeekStart(Date.parse("2026-11-08T23:59:59Z"));
    expect(new Date(monday).toISOString()).toBe("2026-11-02T00:00:00.000Z");
  });

  it("clips the first and last week", () => {
    const weeks = splitIsoWeeks(
      new Date("2026-11-04T06:00:00Z"),
      new Date("2026-11-17T00:00:00Z"),
    );
    expect(weeks.map((week) => week.label)).toEqual(["2026-W45", "2026-W46", "2026-W47"]);
    expect(weeks.map((week) => week.full)).toEqual([false, true, false]);
    expect(weeks[0]!.start.toISOString()).toBe("2026-11-04T06:00:00.000Z");
    expect(weeks[2]!.end.toISOString()).toBe("2026-11-17T00:00:00.000Z");
  });

  it("keeps a period within one week", () => {
    const weeks = splitIsoWeeks(new Date("2026-11-03T00:00:00Z"), new Date("2026-11-04T00:00:00Z"));
    expect(weeks).toHaveLength(1);
    expect(weeks[0]!.full).toBe(false);
  });
});

describe("report period", () => {
  it("defaults to the last 7 days", () => {
    const period = parseReportPeriod({}, NOW);
    expect(period.preset).toBe("7d");
    expect(period.to).toEqual(NOW);
    expect(period.from.toISOString()).toBe("2026-11-28T10:30:00.000Z");
  });

  it("reads from and to", () => {
    const period = parseReportPeriod({ from: "2026-11-02", to: "2026-11-09T12:00:00+01:00" }, NOW);
    expect(period.preset).toBeNull();
    expect(period.from.toISOString()).toBe("2026-11-02T00:00:00.000Z");
    expect(period.to.toISOString()).toBe("2026-11-09T11:00:00.000Z");
  });

  it("accepts exactly the longest span", () => {
    const from = new Date("2025-06-01T00:00:00Z");
    const to = new Date(from.getTime() + MAX_REPORT_DAYS * 86_400_000);
    const period = parseReportPeriod({ from: from.toISOString(), to: to.toISOString() }, NOW);
    expect(period.to).toEqual(to);
  });

  it.each([
    ["2026-11-31", "from"],
    ["2026-13-01", "from"],
    ["2026-11-02T25:00:00Z", "from"],
    ["2026-11-02 08:00", "from"],
    ["", "from"],
  ])("rejects from %j", (from, field) => {
    expect(fieldOf(() => parseIsoTime("from", from))).toBe(field);
  });

  it("rejects an unknown preset", () => {
    expect(fieldOf(() => parseReportPeriod({ range: "5d" }, NOW))).toBe("range");
  });

  it("reads the 24h preset", () => {
    const period = parseReportPeriod({ range: "24h" }, NOW);
    expect(period.preset).toBe("24h");
    expect(period.from.toISOString()).toBe("2026-12-04T10:30:00.000Z");
    expect(period.to).toEqual(NOW);
  });

  it("includes the day of a date-only to", () => {
    const period = parseReportPeriod({ from: "2026-11-28", to: "2026-12-05" }, NOW);
    expect(period.from.toISOString()).toBe("2026-11-28T00:00:00.000Z");
    expect(period.to.toISOString()).toBe("2026-12-06T00:00:00.000Z");
  });

  it("matches the dashboard custom range", () => {
    for (const [from, to] of [
      ["2026-11-28", "2026-12-05"],
      ["2026-11-02", "2026-11-02"],
      ["2026-11-02T08:00:00Z", "2026-11-09T08:00:00Z"],
    ] as const) {
      const period = parseReportPeriod({ from, to }, NOW);
      expect(period.from, `${from} to ${to}`).toEqual(parseRangeBound(from, "from"));
      expect(period.to, `${from} to ${to}`).toEqual(parseRangeBound(to, "to"));
    }
  });
});

describe("service slugs", () => {
  it("treats empty as every service", () => {
    expect(parseServiceSlugs(null)).toEqual([]);
    expect(parseServiceSlugs(" ")).toEqual([]);
  });

  it("trims and removes duplicates", () => {
    expect(parseServiceSlugs("a, b,a")).toEqual(["a", "b"]);
  });

  it("rejects an empty item", () => {
    expect(fieldOf(() => parseServiceSlugs("a,,b"))).toBe("services");
  });
});
