import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import {
  decodeJsonMetricsRequest,
  parseOtlpJsonText,
} from "@/lib/ingest/otlp/json";
import {
  mapMetricsRequest,
  type MappedRequest,
} from "@/lib/ingest/otlp/mapping";
import {
  prometheusLabelName,
  prometheusMetricName,
} from "@/lib/ingest/otlp/names";
import { partialSuccessMessage } from "@/lib/ingest/otlp/receiver";

// How decoded OTLP metrics become series: names, temporality, histogram and
// summary components, skipped and rejected points, labels and services.

const METRIC = "resourceMetrics[0].scopeMetrics[0].metrics[0]";
const T = "1700000000000000000"; // 1700000000000 ms
const MS = 1700000000000;

type Resource = { key: string; value: { stringValue: string } }[];

function request(metrics: object[], resource: Resource = []): string {
  return JSON.stringify({
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: "Checkout API" } },
            ...resource,
          ],
        },
        scopeMetrics: [{ metrics }],
      },
    ],
  });
}

function map(text: string): MappedRequest {
  return mapMetricsRequest(decodeJsonMetricsRequest(parseOtlpJsonText(text)), {
    query: null,
    tokenBound: false,
  });
}

/** Name, labels and value of each series, which is all most tests check. */
function samples(mapped: MappedRequest) {
  return mapped.series.map((series) => ({
    name: series.name,
    labels: series.labels,
    value: series.values[0],
  }));
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

function sum(name: string, temporality: number, isMonotonic: boolean) {
  return {
    name,
    sum: {
      aggregationTemporality: temporality,
      isMonotonic,
      dataPoints: [{ timeUnixNano: T, asInt: "7" }],
    },
  };
}

describe("OTLP metric and label names", () => {
  it.each([
    ["http.server.duration", "http_server_duration"],
    ["a..b", "a__b"],
    ["2xx.rate", "_2xx_rate"],
    ["ns:metric", "ns:metric"],
    ["größe", "gr__e"],
    ["queue😀depth", "queue_depth"],
    ["", ""],
  ])("metric name %j becomes %j", (input, output) => {
    expect(prometheusMetricName(input)).toBe(output);
  });

  it.each([
    ["http.method", "http_method"],
    ["k8s.pod.name", "k8s_pod_name"],
    ["0abc", "key_0abc"],
    ["__meta", "key__meta"],
    ["_private", "_private"],
    ["a:b", "a_b"],
    ["", ""],
  ])("label name %j becomes %j", (input, output) => {
    expect(prometheusLabelName(input)).toBe(output);
  });
});

describe("OTLP sums", () => {
  it("adds _total to monotonic cumulative sums only", () => {
    const mapped = map(
      request([
        sum("requests", 2, true),
        sum("requests_total", 2, true),
        sum("in.flight", 2, false),
        sum("delta.requests", 1, true),
        sum("delta.change", 1, false),
      ]),
    );
    expect(mapped.series.map((series) => series.name)).toEqual([
      "requests_total",
      "requests_total",
      "in_flight",
      "delta_requests",
      "delta_change",
    ]);
    expect(mapped.series.map((series) => series.values)).toEqual(
      Array(5).fill([7]),
    );
    expect(mapped.series[0]!.timestamps).toEqual([MS]);
  });

  it("stores delta values as sent, not accumulated", () => {
    const points = ["3", "5", "2"].map((value, i) => ({
      timeUnixNano: `${1700000000000 + i * 10000}000000`,
      asInt: value,
    }));
    const mapped = map(
      request([
        {
          name: "jobs",
          sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: points },
        },
      ]),
    );
    expect(mapped.series.map((series) => series.values[0])).toEqual([3, 5, 2]);
    expect(mapped.series.map((series) => series.timestamps[0])).toEqual([
      MS,
      MS + 10000,
      MS + 20000,
    ]);
  });

  it("rejects an unspecified temporality", () => {
    const error = apiErrorOf(() => map(request([sum("s", 0, true)])));
    expect(error.field).toBe(`${METRIC}.sum.aggregationTemporality`);
    expect(error.message).toBe(
      `${METRIC}.sum.aggregationTemporality must be ` +
        "AGGREGATION_TEMPORALITY_DELTA (1) or " +
        "AGGREGATION_TEMPORALITY_CUMULATIVE (2), got 0",
    );
  });
});

describe("OTLP histograms", () => {
  function histogram(point: object, temporality = 2) {
    return request([
      {
        name: "http.duration",
        histogram: {
          aggregationTemporality: temporality,
          dataPoints: [{ timeUnixNano: T, ...point }],
        },
      },
    ]);
  }

  it("stores cumulative buckets, sum and count", () => {
    const mapped = map(
      histogram({
        count: "10",
        sum: 3.25,
        bucketCounts: ["2", "5", "0", "3"],
        explicitBounds: [0.1, 0.5, 1],
        attributes: [{ key: "route", value: { stringValue: "/pay" } }],
      }),
    );
    const route = "/pay";
    expect(samples(mapped)).toEqual([
      { name: "http_duration_bucket", labels: { route, le: "0.1" }, value: 2 },
      { name: "http_duration_bucket", labels: { route, le: "0.5" }, value: 7 },
      { name: "http_duration_bucket", labels: { route, le: "1" }, value: 7 },
      { name: "http_duration_bucket", labels: { route, le: "+Inf" }, value: 10 },
      { name: "http_duration_sum", labels: { route }, value: 3.25 },
      { name: "http_duration_count", labels: { route }, value: 10 },
    ]);
  });

  it("stores delta histograms the same way", () => {
    const mapped = map(
      histogram(
        { count: "1", sum: 0.2, bucketCounts: ["0", "1"], explicitBounds: [0.1] },
        1,
      ),
    );
    expect(samples(mapped).map((sample) => sample.value)).toEqual([
      0, 1, 0.2, 1,
    ]);
  });

  it("stores only sum and count without buckets", () => {
    const mapped = map(histogram({ count: "4", sum: 8 }));
    expect(samples(mapped)).toEqual([
      { name: "http_duration_sum", labels: {}, value: 8 },
      { name: "http_duration_count", labels: {}, value: 4 },
    ]);
  });

  it("leaves out _sum when the point has none", () => {
    const mapped = map(
      histogram({ count: "4", bucketCounts: ["4"], explicitBounds: [] }),
    );
    expect(mapped.series.map((series) => series.name)).toEqual([
      "http_duration_bucket",
      "http_duration_count",
    ]);
  });

  it("skips a NaN sum and stores the rest", () => {
    const mapped = map(histogram({ count: "4", sum: "NaN" }));
    expect(mapped.series.map((series) => series.name)).toEqual([
      "http_duration_count",
    ]);
    expect(mapped.nonFiniteSamples).toBe(1);
    expect(mapped.rejectedDataPoints).toBe(0);
  });

  it("rejects bucket counts that do not fit the bounds", () => {
    const error = apiErrorOf(() =>
      map(histogram({ count: "3", bucketCounts: ["1", "2"], explicitBounds: [1, 2] })),
    );
    const point = `${METRIC}.histogram.dataPoints[0]`;
    expect(error.field).toBe(`${point}.bucketCounts`);
    expect(error.message).toBe(
      `${point}.bucketCounts must contain one count more than ` +
        "explicitBounds has bounds (3), got 2",
    );
  });

  it("rejects bounds that do not increase", () => {
    for (const bounds of [[1, 1], [2, 1], ["NaN"], ["Infinity"]]) {
      const error = apiErrorOf(() =>
        map(
          histogram({
            count: "0",
            bucketCounts: bounds.map(() => "0").concat("0"),
            explicitBounds: bounds,
          }),
        ),
      );
      expect(error.field).toMatch(/\.explicitBounds\[[01]\]$/);
    }
  });
});

describe("OTLP summaries", () => {
  it("stores quantiles, sum and count", () => {
    const mapped = map(
      request([
        {
          name: "rpc.latency",
          summary: {
            dataPoints: [
              {
                timeUnixNano: T,
                count: "20",
                sum: 9.5,
                quantileValues: [
                  { quantile: 0.5, value: 0.3 },
                  { quantile: 0.99, value: "NaN" },
                  { quantile: 1, value: 2 },
                ],
              },
            ],
          },
        },
      ]),
    );
    expect(samples(mapped)).toEqual([
      { name: "rpc_latency", labels: { quantile: "0.5" }, value: 0.3 },
      { name: "rpc_latency", labels: { quantile: "1" }, value: 2 },
      { name: "rpc_latency_sum", labels: {}, value: 9.5 },
      { name: "rpc_latency_count", labels: {}, value: 20 },
    ]);
    expect(mapped.nonFiniteSamples).toBe(1);
  });

  it("rejects a quantile outside 0 to 1", () => {
    const error = apiErrorOf(() =>
      map(
        request([
          {
            name: "s",
            summary: {
              dataPoints: [
                { timeUnixNano: T, quantileValues: [{ quantile: 1.5, value: 1 }] },
              ],
            },
          },
        ]),
      ),
    );
    expect(error.field).toBe(
      `${METRIC}.summary.dataPoints[0].quantileValues[0].quantile`,
    );
  });
});

describe("OTLP skipped and rejected points", () => {
  it("skips points flagged no recorded value", () => {
    const mapped = map(
      request([
        {
          name: "g",
          gauge: {
            dataPoints: [
              { timeUnixNano: T, flags: 1 },
              { timeUnixNano: T, asDouble: 2 },
            ],
          },
        },
        {
          name: "h",
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: T, flags: 1, count: "1" }],
          },
        },
      ]),
    );
    expect(samples(mapped)).toEqual([{ name: "g", labels: {}, value: 2 }]);
    expect(mapped.noRecordedValuePoints).toBe(2);
    expect(mapped.dataPoints).toBe(3);
    expect(mapped.rejectedDataPoints).toBe(0);
    expect(partialSuccessMessage(mapped)).toBeNull();
  });

  it("rejects NaN number points and exponential histograms", () => {
    const mapped = map(
      request([
        {
          name: "g",
          gauge: {
            dataPoints: [
              { timeUnixNano: T, asDouble: "NaN" },
              { timeUnixNano: T, asDouble: "-Infinity" },
              { timeUnixNano: T, asDouble: 1 },
            ],
          },
        },
        {
          name: "latency.exp",
          exponentialHistogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: T }, { timeUnixNano: T }],
          },
        },
      ]),
    );
    expect(samples(mapped)).toEqual([{ name: "g", labels: {}, value: 1 }]);
    expect(mapped.dataPoints).toBe(5);
    expect(mapped.rejectedDataPoints).toBe(4);
    expect(mapped.exponentialHistogramPoints).toBe(2);
    expect(mapped.exponentialHistogramMetrics).toEqual(["latency.exp"]);
    expect(partialSuccessMessage(mapped)).toBe(
      "rejected 2 exponential histogram data points (latency.exp) because " +
        "Vigil does not store exponential histograms; configure the " +
        "exporter or a view to send explicit bucket histograms instead; " +
        "rejected 2 data points whose value is NaN or infinite, which " +
        "Vigil does not store",
    );
  });

  it("ignores metrics without a known data member", () => {
    const mapped = map(request([{ name: "future", futureType: {} }]));
    expect(mapped.series).toEqual([]);
    expect(mapped.dataPoints).toBe(0);
  });

  it("rejects points without a time or a value", () => {
    const point = `${METRIC}.gauge.dataPoints[0]`;
    const noTime = apiErrorOf(() =>
      map(request([{ name: "g", gauge: { dataPoints: [{ asDouble: 1 }] } }])),
    );
    expect(noTime.field).toBe(`${point}.timeUnixNano`);
    expect(noTime.message).toBe(
      `${point}.timeUnixNano must be set to the time of the point in ` +
        "nanoseconds since the epoch",
    );
    const noValue = apiErrorOf(() =>
      map(request([{ name: "g", gauge: { dataPoints: [{ timeUnixNano: T }] } }])),
    );
    expect(noValue.message).toBe(`${point} must contain asDouble or asInt`);
  });

  it("rejects an empty metric name", () => {
    const error = apiErrorOf(() =>
      map(request([{ name: "", gauge: { dataPoints: [] } }])),
    );
    expect(error.field).toBe(`${METRIC}.name`);
    expect(error.message).toBe(`${METRIC}.name must not be empty`);
  });
});

describe("OTLP labels and services", () => {
  function gauge(attributes: object[]) {
    return {
      name: "g",
      gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 1, attributes }] },
    };
  }
  const text = (key: string, value: string) => ({
    key,
    value: { stringValue: value },
  });

  it("joins attributes whose label names collide", () => {
    const mapped = map(
      request([gauge([text("http.method", "GET"), text("http_method", "get")])]),
    );
    expect(mapped.series[0]!.labels).toEqual({ http_method: "GET;get" });
  });

  it("renames reserved and digit-led attribute names", () => {
    const mapped = map(
      request([gauge([text("__name__", "x"), text("1st", "y")])]),
    );
    expect(mapped.series[0]!.labels).toEqual({
      key__name__: "x",
      key_1st: "y",
    });
  });

  it("rejects an empty attribute key", () => {
    const error = apiErrorOf(() => map(request([gauge([text("", "x")])])));
    expect(error.field).toBe(
      `${METRIC}.gauge.dataPoints[0].attributes[0].key`,
    );
  });

  it("takes instance and host from the resource", () => {
    const resource = [
      text("service.instance.id", "pod-7"),
      text("host.name", "node-a"),
      text("process.pid", "42"),
    ];
    const fromResource = map(request([gauge([])], resource));
    expect(fromResource.series[0]!.labels).toEqual({
      instance: "pod-7",
      host: "node-a",
    });
    const pointWins = map(request([gauge([text("host", "node-b")])], resource));
    expect(pointWins.series[0]!.labels).toEqual({
      host: "node-b",
      instance: "pod-7",
    });
  });

  it("picks the service from service.name as a slug", () => {
    const mapped = map(request([gauge([])]));
    expect(mapped.series[0]!.service).toBe("checkout-api");
    expect(mapped.series[0]!.serviceField).toBe(
      "resourceMetrics[0].resource.attributes[0]",
    );
  });

  it("prefers a point's service attribute", () => {
    const mapped = map(request([gauge([text("service", "Payments")])]));
    expect(mapped.series[0]!.service).toBe("payments");
    expect(mapped.series[0]!.serviceField).toBe(
      `${METRIC}.gauge.dataPoints[0].attributes`,
    );
  });

  it("leaves the service null without a name", () => {
    const mapped = mapMetricsRequest(
      decodeJsonMetricsRequest({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [gauge([])] }] },
        ],
      }),
      { query: null, tokenBound: false },
    );
    expect(mapped.series[0]!.service).toBeNull();
  });
});
