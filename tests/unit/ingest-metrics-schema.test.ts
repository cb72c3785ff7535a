import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { formatFieldPath } from "@/lib/api/validation";
import { parseMetricsBatch } from "@/lib/ingest/metrics-schema";
import { timestampLimits } from "@/lib/ingest/timestamps";

const now = Date.parse("2026-12-04T12:00:00Z");
const limits = { ...timestampLimits(now, 365, 10), maxPoints: 10 };

function parseError(input: unknown): ApiError {
  try {
    parseMetricsBatch(input, limits);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("formatFieldPath", () => {
  it.each([
    [["series", 2, "points", 5, 1], "series[2].points[5][1]"],
    [["series", 0, "labels", "route"], "series[0].labels.route"],
    [["series", 0, "labels", "a-b"], 'series[0].labels["a-b"]'],
    [[0], "[0]"],
    [[], ""],
  ])("formats %j", (path, expected) => {
    expect(formatFieldPath(path)).toBe(expected);
  });
});

describe("parseMetricsBatch", () => {
  it("converts both timestamp forms", () => {
    const batch = parseMetricsBatch(
      {
        service: "checkout",
        series: [
          {
            name: "up",
            points: [
              ["2026-12-04T11:00:00Z", 1],
              [now - 60_000, 2],
            ],
          },
        ],
      },
      limits,
    );

    expect(batch.series).toEqual([
      {
        index: 0,
        name: "up",
        labelsKey: "{}",
        timestamps: [Date.parse("2026-12-04T11:00:00Z"), now - 60_000],
        values: [1, 2],
        lastPointMs: now - 60_000,
      },
    ]);
    expect(batch.pointCount).toBe(2);
  });

  it("merges series with equal label sets", () => {
    const batch = parseMetricsBatch(
      {
        service: "checkout",
        series: [
          { name: "up", labels: { b: "2", a: "1" }, points: [[now, 1]] },
          { name: "cpu", points: [[now, 5]] },
          { name: "up", labels: { a: "1", b: "2" }, points: [[now - 1, 3]] },
        ],
      },
      limits,
    );

    expect(batch.series.map((series) => series.name)).toEqual(["cpu", "up"]);
    expect(batch.series[1]!.labelsKey).toBe('{"a":"1","b":"2"}');
    expect(batch.series[1]!.values).toEqual([1, 3]);
    expect(batch.series[1]!.lastPointMs).toBe(now);
  });

  it("rejects too many points before validating", () => {
    const error = parseError({
      service: "NOT VALID",
      series: [{ name: "up", points: Array.from({ length: 11 }, () => "x") }],
    });

    expect(error.status).toBe(413);
    expect(error.code).toBe("too_many_points");
    expect(error.field).toBe("series");
  });

  it("names the first invalid point", () => {
    const error = parseError({
      service: "checkout",
      series: [
        { name: "up", points: [[now, 1]] },
        { name: "up", points: [[now, 1], [now, 2], "oops"] },
      ],
    });

    expect(error.field).toBe("series[1].points[2]");
    expect(error.message).toBe(
      "series[1].points[2] must be a [timestamp, value] pair",
    );
  });

  it.each([
    [{ service: "a", series: [] }, "series", "must contain at least one series"],
    [
      { service: "a", series: [{ name: "up", points: [] }] },
      "series[0].points",
      "must contain at least one [timestamp, value] point",
    ],
    [
      { service: "a", series: [{ name: "up", labels: [], points: [[now, 1]] }] },
      "series[0].labels",
      "must be an object, got an array",
    ],
    [
      { service: "a", series: [{ name: "up", labels: { a: "x\u0000" }, points: [[now, 1]] }] },
      "series[0].labels.a",
      "must not contain NUL characters",
    ],
    [
      { service: "a".repeat(64), series: [{ name: "up", points: [[now, 1]] }] },
      "service",
      /^must be 1 to 63 characters/,
    ],
    [
      { service: "a", series: [{ name: "x".repeat(201), points: [[now, 1]] }] },
      "series[0].name",
      /^must be a Prometheus metric name/,
    ],
    [
      { service: "a", extra: 1, series: [{ name: "up", points: [[now, 1]] }] },
      "extra",
      "is not a known field",
    ],
  ])("rejects %j", (input, field, predicate) => {
    const error = parseError(input);

    expect(error.status).toBe(400);
    expect(error.field).toBe(field);
    const message = error.message.slice(field.length + 1);
    if (typeof predicate === "string") {
      expect(message).toBe(predicate);
    } else {
      expect(message).toMatch(predicate);
    }
  });
});
