import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import {
  decodeJsonMetricsRequest,
  parseOtlpJsonText,
} from "@/lib/ingest/otlp/json";
import type { OtlpMetricsRequest } from "@/lib/ingest/otlp/model";
import { decodeProtobufMetricsRequest } from "@/lib/ingest/otlp/protobuf";
import {
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  RpcStatus,
} from "@/lib/ingest/otlp/schema";

// Edge cases of the streaming protobuf decoder. Requests are built with the
// reflected protobufjs types, or byte by byte with protobufjs's Writer where
// the reflected encoder cannot produce the case (unpacked repeated fields,
// unknown fields, wrong wire types, truncation).

const POINT = "resourceMetrics[0].scopeMetrics[0].metrics[0]";

function encode(request: object): Uint8Array {
  return ExportMetricsServiceRequest.encode(
    ExportMetricsServiceRequest.fromObject(request),
  ).finish();
}

/** Builds a request object with one metric under service.name "api". */
function withMetric(metric: object): object {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: "service.name", value: { stringValue: "api" } }],
        },
        scopeMetrics: [{ metrics: [metric] }],
      },
    ],
  };
}

function firstMetric(request: OtlpMetricsRequest) {
  return request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
}

function apiErrorOf(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError, but nothing was thrown");
}

/** Wraps metric bytes into ExportMetricsServiceRequest bytes. */
function requestAroundMetric(metricBytes: Uint8Array): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).fork(); // resourceMetrics
  writer.uint32((2 << 3) | 2).fork(); // scopeMetrics
  writer.uint32((2 << 3) | 2).bytes(metricBytes); // metrics
  writer.ldelim().ldelim();
  return writer.finish();
}

/** Encodes a histogram metric with bucketCounts and explicitBounds unpacked. */
function unpackedHistogram(): Uint8Array {
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 2).string("latency");
  writer.uint32((9 << 3) | 2).fork(); // histogram
  writer.uint32((2 << 3) | 0).int32(2); // aggregationTemporality
  writer.uint32((1 << 3) | 2).fork(); // dataPoints
  writer.uint32((3 << 3) | 1).fixed64("1700000000000000000");
  writer.uint32((4 << 3) | 1).fixed64(6);
  writer.uint32((5 << 3) | 1).double(4.5);
  for (const count of [1, 2, 3]) {
    writer.uint32((6 << 3) | 1).fixed64(count);
  }
  for (const bound of [0.5, 1]) {
    writer.uint32((7 << 3) | 1).double(bound);
  }
  writer.ldelim().ldelim();
  return requestAroundMetric(writer.finish());
}

describe("OTLP protobuf decoder", () => {
  it("decodes an empty body as an empty request", () => {
    expect(decodeProtobufMetricsRequest(new Uint8Array(0))).toEqual({
      resourceMetrics: [],
    });
  });

  it("reads times above 2^53 ns exactly", () => {
    const cases: [string, number][] = [
      ["1700000000000999999", 1700000000000],
      ["1700000000001000000", 1700000000001],
      ["18446744073709551615", 18446744073709],
      ["999999", 0],
    ];
    for (const [nanos, ms] of cases) {
      const bytes = encode(
        withMetric({
          name: "g",
          gauge: { dataPoints: [{ timeUnixNano: nanos, asDouble: 1 }] },
        }),
      );
      const metric = firstMetric(decodeProtobufMetricsRequest(bytes));
      if (metric.type !== "gauge") throw new Error(metric.type);
      expect(metric.dataPoints[0]!.timeMs).toBe(ms);
    }
  });

  it("reads negative and large asInt values", () => {
    const bytes = encode(
      withMetric({
        name: "g",
        gauge: {
          dataPoints: [
            { timeUnixNano: "1", asInt: "-5" },
            { timeUnixNano: "1", asInt: "9007199254740993" },
            { timeUnixNano: "1", asInt: "-9223372036854775808" },
          ],
        },
      }),
    );
    const metric = firstMetric(decodeProtobufMetricsRequest(bytes));
    if (metric.type !== "gauge") throw new Error(metric.type);
    expect(metric.dataPoints.map((point) => point.value)).toEqual([
      -5,
      9007199254740992,
      -9223372036854775808,
    ]);
    expect(metric.dataPoints.map((point) => point.valueType)).toEqual([
      "int",
      "int",
      "int",
    ]);
  });

  it("keeps a point without a value as valueType none", () => {
    const bytes = encode(
      withMetric({
        name: "g",
        gauge: { dataPoints: [{ timeUnixNano: "1", flags: 1 }] },
      }),
    );
    const metric = firstMetric(decodeProtobufMetricsRequest(bytes));
    expect(metric).toEqual({
      name: "g",
      type: "gauge",
      dataPoints: [
        { attributes: [], timeMs: 0, flags: 1, valueType: "none", value: 0 },
      ],
    });
  });

  it("reads unpacked bucketCounts and explicitBounds", () => {
    const packed = encode(
      withMetric({
        name: "latency",
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [
            {
              timeUnixNano: "1700000000000000000",
              count: 6,
              sum: 4.5,
              bucketCounts: [1, 2, 3],
              explicitBounds: [0.5, 1],
            },
          ],
        },
      }),
    );
    const fromPacked = firstMetric(decodeProtobufMetricsRequest(packed));
    const fromUnpacked = firstMetric(
      decodeProtobufMetricsRequest(unpackedHistogram()),
    );
    expect(fromUnpacked).toEqual(fromPacked);
    expect(fromPacked).toEqual({
      name: "latency",
      type: "histogram",
      aggregationTemporality: 2,
      dataPoints: [
        {
          attributes: [],
          timeMs: 1700000000000,
          flags: 0,
          count: 6,
          sum: 4.5,
          bucketCounts: [1, 2, 3],
          explicitBounds: [0.5, 1],
        },
      ],
    });
  });

  it("skips unknown fields", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((99 << 3) | 0).uint32(7); // unknown varint
    writer.uint32((1 << 3) | 2).string("g");
    writer.uint32((98 << 3) | 2).string("unknown"); // unknown bytes
    writer.uint32((97 << 3) | 5).fixed32(3); // unknown fixed32
    writer.uint32((5 << 3) | 2).fork(); // gauge
    writer.uint32((1 << 3) | 2).fork();
    writer.uint32((3 << 3) | 1).fixed64(2_000_000);
    writer.uint32((4 << 3) | 1).double(1.5);
    writer.uint32((5 << 3) | 2).fork().uint32((3 << 3) | 1).double(9).ldelim(); // exemplar
    writer.ldelim().ldelim();
    const metric = firstMetric(
      decodeProtobufMetricsRequest(requestAroundMetric(writer.finish())),
    );
    expect(metric).toEqual({
      name: "g",
      type: "gauge",
      dataPoints: [
        { attributes: [], timeMs: 2, flags: 0, valueType: "double", value: 1.5 },
      ],
    });
  });

  it("lets the last data member win", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string("m");
    writer.uint32((5 << 3) | 2).fork(); // gauge with one point
    writer.uint32((1 << 3) | 2).fork().uint32((4 << 3) | 1).double(1).ldelim();
    writer.ldelim();
    writer.uint32((7 << 3) | 2).fork(); // sum, first part
    writer.uint32((1 << 3) | 2).fork().uint32((4 << 3) | 1).double(2).ldelim();
    writer.ldelim();
    writer.uint32((7 << 3) | 2).fork(); // sum, second part merges
    writer.uint32((1 << 3) | 2).fork().uint32((4 << 3) | 1).double(3).ldelim();
    writer.uint32((2 << 3) | 0).int32(2);
    writer.uint32((3 << 3) | 0).bool(true);
    writer.ldelim();
    const metric = firstMetric(
      decodeProtobufMetricsRequest(requestAroundMetric(writer.finish())),
    );
    expect(metric.type).toBe("sum");
    if (metric.type !== "sum") return;
    expect(metric.dataPoints.map((point) => point.value)).toEqual([2, 3]);
    expect(metric.aggregationTemporality).toBe(2);
    expect(metric.isMonotonic).toBe(true);
  });

  it("counts exponential histogram points", () => {
    const bytes = encode(
      withMetric({
        name: "e",
        exponentialHistogram: {
          aggregationTemporality: 1,
          dataPoints: [
            { timeUnixNano: "1", count: 1, scale: 3 },
            { timeUnixNano: "2", count: 2, positive: { bucketCounts: [1] } },
          ],
        },
      }),
    );
    expect(firstMetric(decodeProtobufMetricsRequest(bytes))).toEqual({
      name: "e",
      type: "exponentialHistogram",
      dataPointCount: 2,
    });
  });

  it("decodes summaries", () => {
    const bytes = encode(
      withMetric({
        name: "rpc",
        summary: {
          dataPoints: [
            {
              timeUnixNano: "3000000",
              count: 10,
              sum: 12.5,
              quantileValues: [
                { quantile: 0.5, value: 1 },
                { quantile: 0.99, value: 4 },
              ],
            },
          ],
        },
      }),
    );
    expect(firstMetric(decodeProtobufMetricsRequest(bytes))).toEqual({
      name: "rpc",
      type: "summary",
      dataPoints: [
        {
          attributes: [],
          timeMs: 3,
          flags: 0,
          count: 10,
          sum: 12.5,
          quantileValues: [
            { quantile: 0.5, value: 1 },
            { quantile: 0.99, value: 4 },
          ],
        },
      ],
    });
  });

  it("turns attribute values into the same text as JSON", () => {
    const attributes = [
      { key: "s", value: { stringValue: "x y" } },
      { key: "b", value: { boolValue: true } },
      { key: "i", value: { intValue: "9007199254740993" } },
      { key: "neg", value: { intValue: "-3" } },
      { key: "d", value: { doubleValue: 0.5 } },
      { key: "bytes", value: { bytesValue: "AQID" } },
      { key: "empty", value: {} },
      {
        key: "array",
        value: {
          arrayValue: {
            values: [
              { stringValue: "a" },
              { intValue: "7" },
              { doubleValue: 1.5 },
              { boolValue: false },
              { bytesValue: "/w==" },
              {},
            ],
          },
        },
      },
      {
        key: "list",
        value: {
          kvlistValue: {
            values: [
              { key: "k", value: { stringValue: "v" } },
              { key: "nested", value: { arrayValue: { values: [] } } },
            ],
          },
        },
      },
    ];
    const request = withMetric({
      name: "g",
      gauge: { dataPoints: [{ timeUnixNano: "1", asDouble: 1, attributes }] },
    });
    const fromProtobuf = decodeProtobufMetricsRequest(encode(request));
    const fromJson = decodeJsonMetricsRequest(
      parseOtlpJsonText(JSON.stringify(request)),
    );
    expect(fromProtobuf).toEqual(fromJson);
    const metric = firstMetric(fromProtobuf);
    if (metric.type !== "gauge") throw new Error(metric.type);
    expect(metric.dataPoints[0]!.attributes).toEqual([
      { key: "s", value: "x y" },
      { key: "b", value: "true" },
      { key: "i", value: "9007199254740993" },
      { key: "neg", value: "-3" },
      { key: "d", value: "0.5" },
      { key: "bytes", value: "AQID" },
      { key: "empty", value: "" },
      { key: "array", value: '["a",7,1.5,false,"/w==",null]' },
      { key: "list", value: '{"k":"v","nested":[]}' },
    ]);
  });
});

describe("OTLP protobuf decoder errors", () => {
  const valid = encode(
    withMetric({
      name: "g",
      gauge: { dataPoints: [{ timeUnixNano: "1", asDouble: 1 }] },
    }),
  );

  it("rejects a truncated body with its position", () => {
    const error = apiErrorOf(() =>
      decodeProtobufMetricsRequest(valid.subarray(0, valid.length - 3)),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_protobuf");
    expect(error.message).toMatch(
      /^request body is not a valid OTLP ExportMetricsServiceRequest: /,
    );
    expect(error.message).toMatch(new RegExp(`of ${valid.length - 3}$`));
  });

  it("names the data point of a wrong wire type", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string("g");
    writer.uint32((5 << 3) | 2).fork();
    writer.uint32((1 << 3) | 2).fork();
    writer.uint32((3 << 3) | 0).uint32(5); // timeUnixNano as a varint
    writer.ldelim().ldelim();
    const error = apiErrorOf(() =>
      decodeProtobufMetricsRequest(requestAroundMetric(writer.finish())),
    );
    expect(error.field).toBe(`${POINT}.gauge.dataPoints[0]`);
    expect(error.message).toMatch(
      new RegExp(
        "field 3 has wire type 0, expected 1 in " +
          `${POINT.replace(/[[\].]/g, "\\$&")}\\.gauge\\.dataPoints\\[0\\]`,
      ),
    );
  });

  it("rejects invalid UTF-8 in a metric name", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).bytes(new Uint8Array([0x67, 0xff, 0xfe]));
    const error = apiErrorOf(() =>
      decodeProtobufMetricsRequest(requestAroundMetric(writer.finish())),
    );
    expect(error.field).toBe(POINT);
    expect(error.message).toMatch(/a string is not valid UTF-8 in /);
  });

  it("rejects a length past the enclosing message", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).uint32(50); // resourceMetrics of 50 bytes
    writer.uint32((2 << 3) | 2).uint32(0);
    const error = apiErrorOf(() =>
      decodeProtobufMetricsRequest(writer.finish()),
    );
    expect(error.message).toMatch(
      /length 50 runs past the end of the enclosing message/,
    );
  });

  it("rejects a packed field of the wrong length", () => {
    const writer = protobuf.Writer.create();
    writer.uint32((1 << 3) | 2).string("h");
    writer.uint32((9 << 3) | 2).fork();
    writer.uint32((1 << 3) | 2).fork();
    writer.uint32((6 << 3) | 2).bytes(new Uint8Array(12)); // 1.5 counts
    writer.ldelim().ldelim();
    const error = apiErrorOf(() =>
      decodeProtobufMetricsRequest(requestAroundMetric(writer.finish())),
    );
    expect(error.message).toMatch(
      /packed field 6 is 12 bytes long, not a multiple of 8/,
    );
  });

  it("rejects attributes nested deeper than 32 levels", () => {
    let value: object = { stringValue: "leaf" };
    for (let i = 0; i < 33; i += 1) {
      value = { arrayValue: { values: [value] } };
    }
    const bytes = encode(
      withMetric({
        name: "g",
        gauge: {
          dataPoints: [
            { timeUnixNano: "1", asDouble: 1, attributes: [{ key: "k", value }] },
          ],
        },
      }),
    );
    const error = apiErrorOf(() => decodeProtobufMetricsRequest(bytes));
    expect(error.message).toMatch(
      /an attribute nests arrays and key-value lists more than 32 levels deep/,
    );
  });
});

describe("OTLP response messages", () => {
  it("encodes an empty response as no bytes", () => {
    const bytes = ExportMetricsServiceResponse.encode(
      ExportMetricsServiceResponse.fromObject({}),
    ).finish();
    expect(bytes.length).toBe(0);
  });

  it("round-trips a partial success and a status", () => {
    const response = ExportMetricsServiceResponse.decode(
      ExportMetricsServiceResponse.encode(
        ExportMetricsServiceResponse.fromObject({
          partialSuccess: { rejectedDataPoints: 3, errorMessage: "why" },
        }),
      ).finish(),
    );
    expect(
      ExportMetricsServiceResponse.toObject(response, { longs: Number }),
    ).toEqual({ partialSuccess: { rejectedDataPoints: 3, errorMessage: "why" } });
    const status = RpcStatus.decode(
      RpcStatus.encode(RpcStatus.fromObject({ code: 3, message: "bad" })).finish(),
    );
    expect(RpcStatus.toObject(status)).toEqual({ code: 3, message: "bad" });
  });
});
