import { describe, expect, it } from "vitest";

import { splitRange } from "@/lib/kpi/buckets";
import { KPI_DEFINITIONS } from "@/lib/kpi/definitions";

const from = new Date("2026-11-01T00:00:00Z");
const to = new Date("2026-11-08T00:00:00Z");

describe("splitRange", () => {
  it("splits a week into days", () => {
    const buckets = splitRange({ from, to }, 7);

    expect(buckets).toHaveLength(7);
    expect(buckets[1]).toEqual({
      start: new Date("2026-11-02T00:00:00Z"),
      end: new Date("2026-11-03T00:00:00Z"),
    });
  });

  it("leaves no gaps between buckets", () => {
    const buckets = splitRange({ from, to: new Date(from.getTime() + 1000) }, 7);

    for (let i = 1; i < buckets.length; i += 1) {
      expect(buckets[i]!.start).toEqual(buckets[i - 1]!.end);
    }
    expect(buckets[0]!.start).toEqual(from);
    expect(buckets[6]!.end.getTime()).toBe(from.getTime() + 1000);
  });

  it.each([0, -1, 1.5, 1001, Number.NaN])("rejects %d buckets", (count) => {
    expect(() => splitRange({ from, to }, count)).toThrow(RangeError);
  });

  it("rejects an invalid date", () => {
    expect(() => splitRange({ from: new Date("x"), to }, 1)).toThrow(
      "KPI range from and to must be valid dates",
    );
  });
});

describe("KPI_DEFINITIONS", () => {
  it("defines all eight KPIs", () => {
    expect(Object.keys(KPI_DEFINITIONS).sort()).toEqual([
      "changeFailureRate",
      "deploymentFrequency",
      "errorRate",
      "incidentFrequency",
      "leadTime",
      "mtta",
      "mttr",
      "uptime",
    ]);
    for (const [name, definition] of Object.entries(KPI_DEFINITIONS)) {
      expect(definition.name).toBe(name);
      expect(definition.definition.length).toBeGreaterThan(50);
    }
  });
});
