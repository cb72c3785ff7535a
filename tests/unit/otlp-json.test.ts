import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import {
  decodeJsonMetricsRequest,
  parseOtlpJsonText,
} from "@/lib/ingest/otlp/json";
import { mapMetricsRequest } from "@/lib/ingest/otlp/mapping";
import type { OtlpMetricsRequest } from "@/lib/ingest/otlp/model";

// Edge cases of the OTLP/JSON decoder: 64-bit integers, snake_case field
// names, enum names, the protobuf JSON forms of NaN and bytes, and errors
// that name the field.

const POINT = "resourceMetrics[0].scopeMetrics[0].metrics[0]";

function decode(text: string): OtlpMetricsRequest {
  return decodeJsonMetricsRequest(parseOtlpJsonText(text));
}

/** Wraps one metric into a request with service.name "api". */
function requestText(metric: string): string {
  return (
    '{"resourceMetrics":[{"resource":{"attributes":[' +
    '{"key":"service.name","value":{"stringValue":"api"}}]},' +
    `"scopeMetrics":[{"metrics":[${metric}]}]}]}`
  );
}

function gaugeText(point: string): string {
  return requestText(`{"name":"g","gauge":{"dataPoints":[${point}]}}`);
}

/** Runs `action` and returns the ApiError it throws. */
function apiErrorOf(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError, but nothing was thrown");
}

function onlyPoint(request: OtlpMetricsRequest) {
  const metric = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
  if (metric.type !== "gauge" && metric.type !== "sum") {
    throw new Error(`expected a number metric, got ${metric.type}`);
  }
  return metric.dataPoints[0]!;
}

describe("parseOtlpJsonText", () => {
  it("quotes bare integers of 16 or more digits", () => {
    expect(parseOtlpJsonText('{"n":12345678901234567890,"m":-1234567890123456}'))
      .toEqual({ n: "12345678901234567890", m: "-1234567890123456" });
  });

  it("leaves short integers as numbers", () => {
    expect(parseOtlpJsonText('{"n":123456789012345}')).toEqual({
      n: 123456789012345,
    });
  });

  it("leaves decimals, exponents and strings alone", () => {
    const text =
      '{"d":0.12345678901234567890,"e":1e1234567890123456,' +
      '"f":-12345678901234567.5,"s":"a\\"12345678901234567890"}';
    expect(parseOtlpJsonText(text)).toEqual({
      d: 0.12345678901234568,
      e: Number.POSITIVE_INFINITY,
      f: -12345678901234568,
      s: 'a"12345678901234567890',
    });
  });

  it("reports syntax errors at their original position", () => {
    const error = apiErrorOf(() =>
      parseOtlpJsonText('{"n":12345678901234567890,}'),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_json");
    expect(error.message).toMatch(/^invalid JSON at position 26/);
  });
});

describe("OTLP/JSON 64-bit integers", () => {
  it("keeps nanoseconds above 2^53 exact as strings", () => {
    // As a double, 1700000000000999999 rounds up to 1700000000001000192.
    const point = onlyPoint(
      decode(gaugeText('{"timeUnixNano":"1700000000000999999","asDouble":1}')),
    );
    expect(point.timeMs).toBe(1700000000000);
  });

  it("keeps nanoseconds above 2^53 exact as numbers", () => {
    const point = onlyPoint(
      decode(gaugeText('{"timeUnixNano":1700000000000999999,"asDouble":1}')),
    );
    expect(point.timeMs).toBe(1700000000000);
  });

  it("keeps every digit of an int attribute", () => {
    const text = gaugeText(
      '{"timeUnixNano":"1700000000000000000","asDouble":1,"attributes":[' +
        '{"key":"a","value":{"intValue":"9007199254740993"}},' +
        '{"key":"b","value":{"intValue":-9007199254740993}},' +
        '{"key":"c","value":{"intValue":"007"}}]}',
    );
    expect(onlyPoint(decode(text)).attributes).toEqual([
      { key: "a", value: "9007199254740993" },
      { key: "b", value: "-9007199254740993" },
      { key: "c", value: "7" },
    ]);
  });

  it("converts asInt to the nearest double", () => {
    const point = onlyPoint(
      decode(
        gaugeText('{"timeUnixNano":"1700000000000000000","asInt":"-42"}'),
      ),
    );
    expect(point.valueType).toBe("int");
    expect(point.value).toBe(-42);
    const large = onlyPoint(
      decode(
        gaugeText(
          '{"timeUnixNano":"1700000000000000000","asInt":"9007199254740993"}',
        ),
      ),
    );
    expect(large.value).toBe(9007199254740992);
  });

  it("rejects a uint64 above 2^64 - 1", () => {
    const error = apiErrorOf(() =>
      decode(gaugeText('{"timeUnixNano":"18446744073709551616","asInt":1}')),
    );
    expect(error.field).toBe(`${POINT}.gauge.dataPoints[0].timeUnixNano`);
    expect(error.message).toBe(
      `${POINT}.gauge.dataPoints[0].timeUnixNano must be an unsigned 64-bit ` +
        'integer, as a decimal string or a number, got "18446744073709551616"',
    );
  });

  it("rejects a time that is not an integer", () => {
    for (const time of ['"1.5e18"', '"abc"', "-5", "1.5", "true"]) {
      const error = apiErrorOf(() =>
        decode(gaugeText(`{"timeUnixNano":${time},"asInt":1}`)),
      );
      expect(error.field).toBe(`${POINT}.gauge.dataPoints[0].timeUnixNano`);
    }
  });

  it("rejects an asInt outside int64", () => {
    const error = apiErrorOf(() =>
      decode(
        gaugeText(
          '{"timeUnixNano":"1","asInt":"9223372036854775808"}',
        ),
      ),
    );
    expect(error.field).toBe(`${POINT}.gauge.dataPoints[0].asInt`);
  });
});

describe("OTLP/JSON snake_case field names", () => {
  const cases: [string, string, string][] = [
    [
      '{"resource_metrics":[]}',
      "resource_metrics",
      "resourceMetrics",
    ],
    [
      '{"resourceMetrics":[{"scope_metrics":[]}]}',
      "resourceMetrics[0].scope_metrics",
      "scopeMetrics",
    ],
    [
      requestText('{"name":"g","gauge":{"data_points":[]}}'),
      `${POINT}.gauge.data_points`,
      "dataPoints",
    ],
    [
      gaugeText('{"time_unix_nano":"1700000000000000000","asDouble":1}'),
      `${POINT}.gauge.dataPoints[0].time_unix_nano`,
      "timeUnixNano",
    ],
    [
      gaugeText('{"timeUnixNano":"1","as_double":1}'),
      `${POINT}.gauge.dataPoints[0].as_double`,
      "asDouble",
    ],
    [
      gaugeText(
        '{"timeUnixNano":"1","asDouble":1,"attributes":' +
          '[{"key":"k","value":{"string_value":"v"}}]}',
      ),
      `${POINT}.gauge.dataPoints[0].attributes[0].value.string_value`,
      "stringValue",
    ],
    [
      requestText(
        '{"name":"s","sum":{"aggregation_temporality":2,"dataPoints":[]}}',
      ),
      `${POINT}.sum.aggregation_temporality`,
      "aggregationTemporality",
    ],
  ];

  const table = cases.map(([text, field, camel]) => ({ text, field, camel }));
  it.each(table)("rejects $field", ({ text, field, camel }) => {
    const error = apiErrorOf(() => decode(text));
    expect(error.status).toBe(400);
    expect(error.field).toBe(field);
    expect(error.message).toBe(
      `${field} is a protobuf field name, which OTLP/JSON does not ` +
        `accept: send the lowerCamelCase name ${camel}`,
    );
  });

  it("ignores unknown fields with underscores", () => {
    const request = decode(
      '{"resourceMetrics":[],"x_vendor_extension":1,"unknownField":2}',
    );
    expect(request).toEqual({ resourceMetrics: [] });
  });

  it("rejects instrumentationLibraryMetrics", () => {
    const error = apiErrorOf(() =>
      decode('{"resourceMetrics":[{"instrumentationLibraryMetrics":[]}]}'),
    );
    expect(error.field).toBe(
      "resourceMetrics[0].instrumentationLibraryMetrics",
    );
    expect(error.message).toMatch(/sends scopeMetrics$/);
  });
});

describe("OTLP/JSON values", () => {
  it("accepts enum names and numbers", () => {
    for (const temporality of [
      "1",
      '"AGGREGATION_TEMPORALITY_DELTA"',
    ]) {
      const request = decode(
        requestText(
          `{"name":"s","sum":{"aggregationTemporality":${temporality},` +
            '"dataPoints":[]}}',
        ),
      );
      const metric = request.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
      expect(metric).toEqual({
        name: "s",
        type: "sum",
        dataPoints: [],
        aggregationTemporality: 1,
        isMonotonic: false,
      });
    }
  });

  it("rejects an unknown enum name", () => {
    const error = apiErrorOf(() =>
      decode(
        requestText('{"name":"s","sum":{"aggregationTemporality":"DELTA"}}'),
      ),
    );
    expect(error.field).toBe(`${POINT}.sum.aggregationTemporality`);
    expect(error.message).toBe(
      `${POINT}.sum.aggregationTemporality must be ` +
        "AGGREGATION_TEMPORALITY_DELTA (1) or " +
        'AGGREGATION_TEMPORALITY_CUMULATIVE (2), got "DELTA"',
    );
  });

  it("reads NaN and infinities as strings", () => {
    const text = requestText(
      '{"name":"h","histogram":{"aggregationTemporality":2,"dataPoints":[' +
        '{"timeUnixNano":"1","count":"3","sum":"NaN","min":"-Infinity",' +
        '"bucketCounts":["1","2"],"explicitBounds":["2.5"]}]}}',
    );
    const metric = decode(text).resourceMetrics[0]!.scopeMetrics[0]!
      .metrics[0]!;
    expect(metric.type).toBe("histogram");
    if (metric.type !== "histogram") return;
    const point = metric.dataPoints[0]!;
    expect(point.sum).toBeNaN();
    expect(point.count).toBe(3);
    expect(point.bucketCounts).toEqual([1, 2]);
    expect(point.explicitBounds).toEqual([2.5]);
  });

  it("leaves an absent histogram sum undefined", () => {
    const text = requestText(
      '{"name":"h","histogram":{"aggregationTemporality":2,"dataPoints":' +
        '[{"timeUnixNano":"1","count":"0"}]}}',
    );
    const metric = decode(text).resourceMetrics[0]!.scopeMetrics[0]!
      .metrics[0]!;
    if (metric.type !== "histogram") throw new Error(metric.type);
    expect(metric.dataPoints[0]!.sum).toBeUndefined();
  });

  it("turns attribute values into label text", () => {
    const text = gaugeText(
      '{"timeUnixNano":"1","asDouble":1,"attributes":[' +
        '{"key":"s","value":{"stringValue":"x y"}},' +
        '{"key":"b","value":{"boolValue":true}},' +
        '{"key":"d","value":{"doubleValue":0.5}},' +
        '{"key":"n","value":{"doubleValue":"NaN"}},' +
        '{"key":"bytes","value":{"bytesValue":"AQID"}},' +
        '{"key":"url","value":{"bytesValue":"-_8"}},' +
        '{"key":"empty","value":{}},' +
        '{"key":"array","value":{"arrayValue":{"values":[' +
        '{"stringValue":"a"},{"intValue":"12345678901234567890"},' +
        '{"doubleValue":"Infinity"},{"boolValue":false},{}]}}},' +
        '{"key":"list","value":{"kvlistValue":{"values":[' +
        '{"key":"k","value":{"stringValue":"v"}},' +
        '{"key":"nested","value":{"arrayValue":{"values":[]}}}]}}}]}',
    );
    // 12345678901234567890 exceeds int64, so this array is rejected below;
    // the valid form follows.
    const error = apiErrorOf(() => decode(text));
    expect(error.field).toBe(
      `${POINT}.gauge.dataPoints[0].attributes[7].value.arrayValue` +
        ".values[1].intValue",
    );

    const valid = text.replace("12345678901234567890", "1234567890123456789");
    expect(onlyPoint(decode(valid)).attributes).toEqual([
      { key: "s", value: "x y" },
      { key: "b", value: "true" },
      { key: "d", value: "0.5" },
      { key: "n", value: "NaN" },
      { key: "bytes", value: "AQID" },
      { key: "url", value: "+/8=" },
      { key: "empty", value: "" },
      {
        key: "array",
        value: '["a",1234567890123456789,"Infinity",false,null]',
      },
      { key: "list", value: '{"k":"v","nested":[]}' },
    ]);
  });

  it("rejects two values in one AnyValue", () => {
    const error = apiErrorOf(() =>
      decode(
        gaugeText(
          '{"timeUnixNano":"1","asDouble":1,"attributes":' +
            '[{"key":"k","value":{"stringValue":"v","intValue":"1"}}]}',
        ),
      ),
    );
    expect(error.message).toBe(
      `${POINT}.gauge.dataPoints[0].attributes[0].value must contain only ` +
        "one value field, got stringValue and intValue",
    );
  });

  it("rejects attributes nested deeper than 32 levels", () => {
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < 33; i += 1) {
      value = `{"arrayValue":{"values":[${value}]}}`;
    }
    const error = apiErrorOf(() =>
      decode(
        gaugeText(
          `{"timeUnixNano":"1","asDouble":1,"attributes":` +
            `[{"key":"k","value":${value}}]}`,
        ),
      ),
    );
    expect(error.message).toMatch(
      /nests arrays and key-value lists more than 32 levels deep$/,
    );
  });

  it("rejects both asDouble and asInt", () => {
    const error = apiErrorOf(() =>
      decode(gaugeText('{"timeUnixNano":"1","asDouble":1,"asInt":"1"}')),
    );
    expect(error.field).toBe(`${POINT}.gauge.dataPoints[0]`);
  });

  it("rejects two data members in one metric", () => {
    const error = apiErrorOf(() =>
      decode(requestText('{"name":"x","gauge":{},"sum":{}}')),
    );
    expect(error.message).toBe(
      `${POINT} must contain only one of gauge, sum, histogram, ` +
        "exponentialHistogram, summary, got gauge and sum",
    );
  });

  it("rejects wrong types with the field path", () => {
    const cases: [string, string][] = [
      ['{"resourceMetrics":{}}', "resourceMetrics"],
      ['{"resourceMetrics":[{"scopeMetrics":[{"metrics":[7]}]}]}', POINT],
      [requestText('{"name":5,"gauge":{}}'), `${POINT}.name`],
      [
        gaugeText('{"timeUnixNano":"1","asDouble":"abc"}'),
        `${POINT}.gauge.dataPoints[0].asDouble`,
      ],
      [
        gaugeText('{"timeUnixNano":"1","asDouble":1,"flags":-1}'),
        `${POINT}.gauge.dataPoints[0].flags`,
      ],
      [
        requestText('{"name":"s","sum":{"isMonotonic":"yes"}}'),
        `${POINT}.sum.isMonotonic`,
      ],
    ];
    for (const [text, field] of cases) {
      const error = apiErrorOf(() => decode(text));
      expect(error.status).toBe(400);
      expect(error.field).toBe(field);
    }
  });

  it("rejects a body that is not an object", () => {
    const error = apiErrorOf(() => decode("[]"));
    expect(error.message).toBe(
      "request body must be a JSON object with a resourceMetrics array, " +
        "got an array",
    );
  });

  it("accepts an empty request", () => {
    expect(decode("{}")).toEqual({ resourceMetrics: [] });
    expect(decode('{"resourceMetrics":null}')).toEqual({
      resourceMetrics: [],
    });
    const mapped = mapMetricsRequest(decode("{}"), {
      query: null,
      tokenBound: false,
    });
    expect(mapped.series).toEqual([]);
    expect(mapped.dataPoints).toBe(0);
  });
});
