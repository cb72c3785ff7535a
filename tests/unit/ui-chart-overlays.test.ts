import { describe, expect, it } from "vitest";

import {
  groupDeployments,
  mergeIncidentSpans,
} from "@/components/chart-overlays";
import { toChartRows } from "@/components/chart-rows";
import { timeTicks } from "@/components/chart-time-axis";
import type {
  ChartDeployment,
  ChartIncident,
  SeriesChartPoint,
} from "@/lib/services/queries";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const RANGE = { from: 0, to: 120 * HOUR };

function deployment(id: number, at: number, version = `v${id}`): ChartDeployment {
  return {
    id,
    version,
    environment: "production",
    status: "success",
    deployedAt: at,
  };
}

function incident(
  id: number,
  openedAt: number,
  resolvedAt: number | null,
  severity: ChartIncident["severity"] = "sev3",
): ChartIncident {
  return {
    id,
    title: `incident ${id}`,
    severity,
    status: resolvedAt === null ? "triggered" : "resolved",
    openedAt,
    resolvedAt,
  };
}

describe("groupDeployments", () => {
  it("gives each distant deployment its own marker", () => {
    const markers = groupDeployments(
      [deployment(2, 50 * HOUR), deployment(1, 10 * HOUR)],
      RANGE,
    );
    expect(markers.map((marker) => marker.at)).toEqual([10 * HOUR, 50 * HOUR]);
    expect(markers[0]!.title).toContain("Deployment v1 (production)");
  });

  it("merges deployments within one slot", () => {
    // 120 h over 120 slots: one slot is an hour.
    const markers = groupDeployments(
      [
        deployment(1, 10 * HOUR),
        deployment(2, 10 * HOUR + 30 * MINUTE),
        deployment(3, 11 * HOUR),
      ],
      RANGE,
    );
    expect(markers).toHaveLength(2);
    expect(markers[0]!.deployments.map((d) => d.id)).toEqual([1, 2]);
    expect(markers[0]!.title).toMatch(/^2 deployments\n/);
    expect(markers[1]!.deployments.map((d) => d.id)).toEqual([3]);
  });

  it("drops deployments outside the range", () => {
    const markers = groupDeployments(
      [deployment(1, -HOUR), deployment(2, 121 * HOUR), deployment(3, 0)],
      RANGE,
    );
    expect(markers.map((marker) => marker.at)).toEqual([0]);
  });

  it("lists at most five versions in a title", () => {
    const many = Array.from({ length: 8 }, (_, index) =>
      deployment(index + 1, index * MINUTE),
    );
    const [marker] = groupDeployments(many, RANGE);
    expect(marker!.deployments).toHaveLength(8);
    expect(marker!.title.split("\n")).toHaveLength(7);
    expect(marker!.title).toContain("and 3 more");
  });

  it("names a failed deployment's status", () => {
    const failed = { ...deployment(1, HOUR), status: "failure" };
    const [marker] = groupDeployments([failed], RANGE);
    expect(marker!.title).toContain("(production, failure)");
  });
});

describe("mergeIncidentSpans", () => {
  const now = 100 * HOUR;

  it("spans an incident from opening to resolution", () => {
    const spans = mergeIncidentSpans([incident(1, 10 * HOUR, 12 * HOUR)], RANGE, now);
    expect(spans).toHaveLength(1);
    expect(spans[0]!.start).toBe(10 * HOUR);
    expect(spans[0]!.end).toBe(12 * HOUR);
    expect(spans[0]!.title).toContain("#1 SEV3 incident 1, resolved");
  });

  it("ends an open incident at now", () => {
    const spans = mergeIncidentSpans([incident(1, 90 * HOUR, null)], RANGE, now);
    expect(spans[0]!.end).toBe(now);
    expect(spans[0]!.title).toContain("still open");
  });

  it("clips spans to the range", () => {
    const spans = mergeIncidentSpans(
      [incident(1, -5 * HOUR, 2 * HOUR), incident(2, 119 * HOUR, null)],
      RANGE,
      130 * HOUR,
    );
    expect(spans.map((span) => [span.start, span.end])).toEqual([
      [0, 2 * HOUR],
      [119 * HOUR, 120 * HOUR],
    ]);
  });

  it("drops incidents resolved before the range", () => {
    const spans = mergeIncidentSpans(
      [incident(1, -5 * HOUR, -HOUR)],
      RANGE,
      now,
    );
    expect(spans).toEqual([]);
  });

  it("merges overlapping incidents with the highest severity", () => {
    const spans = mergeIncidentSpans(
      [
        incident(1, 10 * HOUR, 14 * HOUR, "sev3"),
        incident(2, 12 * HOUR, 13 * HOUR, "sev1"),
        incident(3, 40 * HOUR, 41 * HOUR, "sev4"),
      ],
      RANGE,
      now,
    );
    expect(spans).toHaveLength(2);
    expect(spans[0]!.severity).toBe("sev1");
    expect(spans[0]!.end).toBe(14 * HOUR);
    expect(spans[0]!.incidents.map((item) => item.id)).toEqual([1, 2]);
    expect(spans[0]!.title).toMatch(/^2 incidents, highest SEV1\n/);
    expect(spans[1]!.severity).toBe("sev4");
  });

  it("merges spans less than one slot apart", () => {
    // 120 h over 300 slots: one slot is 24 minutes.
    const spans = mergeIncidentSpans(
      [
        incident(1, 10 * HOUR, 11 * HOUR),
        incident(2, 11 * HOUR + 20 * MINUTE, 12 * HOUR),
        incident(3, 12 * HOUR + 30 * MINUTE, 13 * HOUR),
      ],
      RANGE,
      now,
    );
    expect(spans.map((span) => span.incidents.length)).toEqual([2, 1]);
  });
});

function bucket(fields: Partial<SeriesChartPoint> & { ts: number }): SeriesChartPoint {
  return {
    value: 10,
    minValue: 10,
    maxValue: 10,
    minTs: fields.ts,
    maxTs: fields.ts,
    anomalyTs: null,
    pointCount: 1,
    score: null,
    likelihood: null,
    isAnomaly: false,
    expectedLow: null,
    expectedHigh: null,
    ...fields,
  };
}

describe("toChartRows", () => {
  it("draws a bucket's minimum and maximum in time order", () => {
    const rows = toChartRows([
      bucket({
        ts: 0,
        pointCount: 4,
        value: 5,
        minValue: 1,
        minTs: 3 * MINUTE,
        maxValue: 9,
        maxTs: MINUTE,
      }),
    ]);
    expect(rows.map((row) => [row.ts, row.value])).toEqual([
      [MINUTE, 9],
      [3 * MINUTE, 1],
    ]);
  });

  it("adds the most anomalous point as a red dot", () => {
    const rows = toChartRows([
      bucket({
        ts: 0,
        pointCount: 5,
        value: 7,
        minValue: 1,
        minTs: 0,
        maxValue: 9,
        maxTs: 4 * MINUTE,
        anomalyTs: 2 * MINUTE,
        isAnomaly: true,
      }),
    ]);
    expect(rows.map((row) => row.ts)).toEqual([0, 2 * MINUTE, 4 * MINUTE]);
    expect(rows.map((row) => row.anomaly)).toEqual([null, 7, null]);
  });

  it("carries the expected band as a pair", () => {
    const rows = toChartRows([bucket({ ts: 0, expectedLow: 8, expectedHigh: 12 })]);
    expect(rows[0]!.band).toEqual([8, 12]);
    expect(toChartRows([bucket({ ts: 0, expectedLow: 8 })])[0]!.band).toBeNull();
  });

  it("breaks the lines at a gap", () => {
    const points = [0, 5, 10, 60, 65].map((minute) => bucket({ ts: minute * MINUTE }));
    const rows = toChartRows(points);
    expect(rows).toHaveLength(6);
    expect(rows[3]!.value).toBeNull();
    expect(rows[3]!.band).toBeNull();
    expect(rows[3]!.ts).toBeGreaterThan(10 * MINUTE);
    expect(rows[3]!.ts).toBeLessThan(60 * MINUTE);
  });
});

describe("timeTicks", () => {
  it("keeps within the tick count", () => {
    for (const span of [HOUR, 24 * HOUR, 7 * 24 * HOUR, 90 * 24 * HOUR]) {
      const ticks = timeTicks(1_700_000_000_000, 1_700_000_000_000 + span);
      expect(ticks.length, `ticks over ${span} ms`).toBeLessThanOrEqual(6);
      expect(ticks.length, `ticks over ${span} ms`).toBeGreaterThanOrEqual(2);
    }
  });

  it("stays inside the range", () => {
    const from = 1_700_000_123_456;
    const ticks = timeTicks(from, from + 24 * HOUR);
    expect(ticks[0]).toBeGreaterThanOrEqual(from);
    expect(ticks.at(-1)).toBeLessThanOrEqual(from + 24 * HOUR);
  });

  it("returns nothing for an empty range", () => {
    expect(timeTicks(5, 5)).toEqual([]);
  });
});
