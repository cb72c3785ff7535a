import { readFileSync } from "node:fs";
import path from "node:path";

import { describe, expect, it } from "vitest";

import {
  decodeJsonMetricsRequest,
  parseOtlpJsonText,
} from "@/lib/ingest/otlp/json";
import {
  mapMetricsRequest,
  type MappedRequest,
  type ServiceSelection,
} from "@/lib/ingest/otlp/mapping";
import type { OtlpMetricsRequest } from "@/lib/ingest/otlp/model";
import { decodeProtobufMetricsRequest } from "@/lib/ingest/otlp/protobuf";
import { ExportMetricsServiceRequest } from "@/lib/ingest/otlp/schema";

// The public OTLP/JSON fixtures, decoded as JSON and, re-encoded with
// protobufjs, as protobuf. Both must give the series below, which were
// worked out by hand from the fixture text.

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/otlp");
const OFFICIAL_EXAMPLE = readFileSync(
  path.join(
    FIXTURES,
    "otlp-official-example-delta-sum-gauge-histogram-int64-as-numbers.json",
  ),
  "utf8",
);
const FILE_EXPORTER_LINES = readFileSync(
  path.join(FIXTURES, "otlp-spec-file-exporter-cumulative-sum-int64-strings.jsonl"),
  "utf8",
)
  .split("\n")
  .filter((line) => line.trim() !== "");

const BY_RESOURCE: ServiceSelection = { query: null, tokenBound: false };

function decodeJson(text: string): OtlpMetricsRequest {
  return decodeJsonMetricsRequest(parseOtlpJsonText(text));
}

/** Encodes an OTLP/JSON request as protobuf with the reflected types. */
function encodeProtobuf(text: string): Uint8Array {
  const message = ExportMetricsServiceRequest.fromObject(JSON.parse(text));
  return ExportMetricsServiceRequest.encode(message).finish();
}

/** Returns the series without their error-path callbacks, for comparison. */
function seriesOf(mapped: MappedRequest) {
  return mapped.series.map(
    ({ service, name, labels, timestamps, values, field }) => ({
      service,
      name,
      labels,
      timestamps,
      values,
      field,
    }),
  );
}

const EXAMPLE_MS = 1544712660300; // 1544712660300000000 ns
const METRICS = "resourceMetrics[0].scopeMetrics[0].metrics";

const EXAMPLE_SERIES = [
  {
    // Delta sum: stored as the value of its interval, without _total.
    service: "my-service",
    name: "my_counter",
    labels: { my_counter_attr: "some value" },
    timestamps: [EXAMPLE_MS],
    values: [5],
    field: `${METRICS}[0].sum.dataPoints[0]`,
  },
  {
    service: "my-service",
    name: "my_gauge",
    labels: { my_gauge_attr: "some value" },
    timestamps: [EXAMPLE_MS],
    values: [10],
    field: `${METRICS}[1].gauge.dataPoints[0]`,
  },
  {
    // bucketCounts [1, 1] with explicitBounds [1]: 1 at or below 1, 2 in all.
    service: "my-service",
    name: "my_histogram_bucket",
    labels: { my_histogram_attr: "some value", le: "1" },
    timestamps: [EXAMPLE_MS],
    values: [1],
    field: `${METRICS}[2].histogram.dataPoints[0]`,
  },
  {
    service: "my-service",
    name: "my_histogram_bucket",
    labels: { my_histogram_attr: "some value", le: "+Inf" },
    timestamps: [EXAMPLE_MS],
    values: [2],
    field: `${METRICS}[2].histogram.dataPoints[0]`,
  },
  {
    service: "my-service",
    name: "my_histogram_sum",
    labels: { my_histogram_attr: "some value" },
    timestamps: [EXAMPLE_MS],
    values: [2],
    field: `${METRICS}[2].histogram.dataPoints[0]`,
  },
  {
    service: "my-service",
    name: "my_histogram_count",
    labels: { my_histogram_attr: "some value" },
    timestamps: [EXAMPLE_MS],
    values: [2],
    field: `${METRICS}[2].histogram.dataPoints[0]`,
  },
];

/**
 * The values of each file exporter line, in request order: metric 0
 * label_1, metric 0 label_2, metric 1 label_1, metric 1 label_2. Every time
 * in the file is 1581452773000000789 to 1581452773000007891 ns, which all
 * truncate to the same millisecond.
 */
const FILE_EXPORTER_VALUES = [
  [123, 456, 123, 456],
  [120, 456, 123, 456],
  [121, 456, 123, 456],
  [125, 456, 123, 456],
];
const FILE_EXPORTER_MS = 1581452773000;

function fileExporterSeries(values: number[]) {
  const labels = [{ label_1: "label-value-1" }, { label_2: "label-value-2" }];
  return values.map((value, i) => ({
    // No service.name in the resource, and "resource-attr" is not a label.
    service: null,
    name: "counter_int_total",
    labels: labels[i % 2],
    timestamps: [FILE_EXPORTER_MS],
    values: [value],
    field: `${METRICS}[${Math.floor(i / 2)}].sum.dataPoints[${i % 2}]`,
  }));
}

describe("OTLP official example fixture", () => {
  it("maps JSON to six series", () => {
    const mapped = mapMetricsRequest(decodeJson(OFFICIAL_EXAMPLE), BY_RESOURCE);
    expect(seriesOf(mapped)).toEqual(EXAMPLE_SERIES);
    expect(mapped.dataPoints).toBe(3);
    expect(mapped.rejectedDataPoints).toBe(0);
    expect(mapped.noRecordedValuePoints).toBe(0);
  });

  it("maps protobuf to the same series", () => {
    const decoded = decodeProtobufMetricsRequest(
      encodeProtobuf(OFFICIAL_EXAMPLE),
    );
    expect(decoded).toEqual(decodeJson(OFFICIAL_EXAMPLE));
    expect(seriesOf(mapMetricsRequest(decoded, BY_RESOURCE))).toEqual(
      EXAMPLE_SERIES,
    );
  });

  it("names timeUnixNano in point errors", () => {
    const mapped = mapMetricsRequest(decodeJson(OFFICIAL_EXAMPLE), BY_RESOURCE);
    expect(mapped.series[0]!.pointField?.(0)).toBe(
      `${METRICS}[0].sum.dataPoints[0].timeUnixNano`,
    );
    expect(mapped.series[0]!.serviceField).toBe(
      "resourceMetrics[0].resource.attributes[0]",
    );
  });

  it("gives ?service= precedence over service.name", () => {
    const mapped = mapMetricsRequest(decodeJson(OFFICIAL_EXAMPLE), {
      query: "checkout",
      tokenBound: false,
    });
    expect(mapped.series.map((series) => series.service)).toEqual(
      Array(6).fill("checkout"),
    );
    expect(mapped.series[0]!.serviceField).toBe("service");
  });

  it("leaves the service to a bound token", () => {
    const mapped = mapMetricsRequest(decodeJson(OFFICIAL_EXAMPLE), {
      query: null,
      tokenBound: true,
    });
    expect(mapped.series.map((series) => series.service)).toEqual(
      Array(6).fill(null),
    );
  });
});

describe("OTLP file exporter fixture", () => {
  it("has four requests", () => {
    expect(FILE_EXPORTER_LINES).toHaveLength(4);
  });

  FILE_EXPORTER_LINES.forEach((line, index) => {
    it(`maps line ${index + 1} from JSON`, () => {
      const mapped = mapMetricsRequest(decodeJson(line), BY_RESOURCE);
      expect(seriesOf(mapped)).toEqual(
        fileExporterSeries(FILE_EXPORTER_VALUES[index]!),
      );
      expect(mapped.dataPoints).toBe(4);
    });

    it(`maps line ${index + 1} from protobuf`, () => {
      const decoded = decodeProtobufMetricsRequest(encodeProtobuf(line));
      expect(decoded).toEqual(decodeJson(line));
      expect(seriesOf(mapMetricsRequest(decoded, BY_RESOURCE))).toEqual(
        fileExporterSeries(FILE_EXPORTER_VALUES[index]!),
      );
    });
  });
});
