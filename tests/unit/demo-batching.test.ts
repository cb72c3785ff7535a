import { describe, expect, it } from "vitest";

import {
  buildMetricsBodies,
  countPoints,
  MAX_POINTS_PER_REQUEST,
  type SeriesPoints,
} from "@/lib/demo/batching";

function series(name: string, times: number[]): SeriesPoints {
  return {
    name,
    labels: { instance: name },
    points: times.map((time) => [time, time * 10]),
  };
}

describe("buildMetricsBodies", () => {
  it("never exceeds the point limit", () => {
    const input = [
      series(
        "a",
        Array.from({ length: 12_000 }, (_, i) => i),
      ),
      series(
        "b",
        Array.from({ length: 7_000 }, (_, i) => i * 2),
      ),
    ];
    const bodies = buildMetricsBodies("svc", input);
    expect(bodies).toHaveLength(4);
    for (const body of bodies) {
      expect(countPoints(body)).toBeLessThanOrEqual(MAX_POINTS_PER_REQUEST);
      expect(body.service).toBe("svc");
    }
  });

  it("sends every point exactly once", () => {
    const input = [series("a", [1, 2, 3, 4, 5]), series("b", [2, 4, 6])];
    const bodies = buildMetricsBodies("svc", input, 3);
    const sent = new Map<string, number[]>();
    for (const body of bodies) {
      for (const entry of body.series) {
        const times = sent.get(entry.name) ?? [];
        times.push(...entry.points.map(([time]) => time));
        sent.set(entry.name, times);
      }
    }
    expect(sent.get("a")).toEqual([1, 2, 3, 4, 5]);
    expect(sent.get("b")).toEqual([2, 4, 6]);
  });

  it("orders requests by time across series", () => {
    const input = [series("a", [1, 3, 5, 7]), series("b", [2, 4, 6, 8])];
    const bodies = buildMetricsBodies("svc", input, 4);
    expect(bodies).toHaveLength(2);
    const firstTimes = bodies[0]!.series.flatMap((entry) =>
      entry.points.map(([time]) => time),
    );
    expect(Math.max(...firstTimes)).toBe(4);
    expect(bodies[0]!.series.map((entry) => entry.name)).toEqual(["a", "b"]);
  });

  it("keeps duplicate timestamps in file order", () => {
    const input: SeriesPoints[] = [
      {
        name: "a",
        labels: {},
        points: [
          [1, 10],
          [2, 20],
          [2, 21],
          [3, 30],
        ],
      },
    ];
    const [body] = buildMetricsBodies("svc", input, 10);
    expect(body!.series[0]!.points).toEqual([
      [1, 10],
      [2, 20],
      [2, 21],
      [3, 30],
    ]);
  });

  it("returns no bodies for no points", () => {
    expect(buildMetricsBodies("svc", [series("a", [])])).toEqual([]);
  });

  it("rejects a limit below one", () => {
    expect(() => buildMetricsBodies("svc", [], 0)).toThrow(
      "maxPoints must be a positive integer, got 0",
    );
  });
});
