import protobuf from "protobufjs";
import { compressSync } from "snappy";
import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import {
  checkRemoteWriteHeaders,
  decompressSnappy,
} from "@/lib/ingest/prometheus/remote-write";
import {
  decodeWriteRequest,
  type ServiceSource,
} from "@/lib/ingest/prometheus/remote-write-decode";
import { WriteRequest } from "@/lib/ingest/prometheus/remote-write-schema";

// Request bodies are built with the reflected WriteRequest type and
// compressed with snappy, as Prometheus does. Expected series are written
// out by hand.

/** 2025-10-09T08:53:20.000Z */
const T0 = 1_760_000_000_000;

type Label = { name: string; value: string };
type TimeSeries = {
  labels?: Label[];
  samples?: { value?: number; timestamp?: number }[];
  exemplars?: { labels?: Label[]; value: number; timestamp: number }[];
  histograms?: { countInt?: number; sum?: number; timestamp?: number }[];
};

function encode(request: {
  timeseries?: TimeSeries[];
  metadata?: { type: number; metricFamilyName: string; help: string }[];
}): Uint8Array {
  return WriteRequest.encode(WriteRequest.fromObject(request)).finish();
}

function labels(pairs: Record<string, string>): Label[] {
  return Object.entries(pairs).map(([name, value]) => ({ name, value }));
}

function decode(bytes: Uint8Array, source: ServiceSource = "labels") {
  return decodeWriteRequest(bytes, source);
}

function thrown(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

/** Writes a raw WriteRequest, for bodies the reflected encoder cannot make. */
function rawRequest(build: (writer: protobuf.Writer) => void): Uint8Array {
  const writer = protobuf.Writer.create();
  build(writer);
  return writer.finish();
}

/** Tag byte(s) of a field: field number shifted left by 3, or the wire type. */
function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

describe("decodeWriteRequest", () => {
  it("maps labels, samples and services", () => {
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({
              __name__: "http_requests_total",
              instance: "host-a.example:9100",
              job: "api",
              method: "GET",
            }),
            samples: [
              { value: 1.5, timestamp: T0 },
              { value: 2.5, timestamp: T0 + 15_000 },
            ],
          },
          {
            // __name__ need not come first; the service label wins over job.
            labels: labels({
              job: "node",
              service: "Checkout API",
              __name__: "node_load1",
            }),
            samples: [{ value: 0.25, timestamp: T0 }],
          },
        ],
      }),
    );

    expect(decoded.samples).toBe(3);
    expect(decoded.skippedHistograms).toBe(0);
    expect(decoded.skippedExemplars).toBe(0);
    expect(decoded.series).toHaveLength(2);
    expect(decoded.series[0]).toMatchObject({
      service: "api",
      name: "http_requests_total",
      labels: { instance: "host-a.example:9100", job: "api", method: "GET" },
      timestamps: [1_760_000_000_000, 1_760_000_015_000],
      values: [1.5, 2.5],
      field: "timeseries[0]",
      serviceField: "timeseries[0].labels",
    });
    expect(decoded.series[0]!.pointField?.(1)).toBe(
      "timeseries[0].samples[1].timestamp",
    );
    expect(decoded.series[1]).toMatchObject({
      service: "checkout-api",
      name: "node_load1",
      labels: { job: "node", service: "Checkout API" },
      timestamps: [1_760_000_000_000],
      values: [0.25],
      field: "timeseries[1]",
    });
  });

  it("uses a fixed service for every series", () => {
    const body = encode({
      timeseries: [
        {
          labels: labels({ __name__: "up", job: "node" }),
          samples: [{ value: 1, timestamp: T0 }],
        },
        {
          labels: labels({ __name__: "up", service: "db" }),
          samples: [{ value: 0, timestamp: T0 }],
        },
      ],
    });

    const fromQuery = decode(body, { fixed: "payments" });
    expect(fromQuery.series.map((series) => series.service)).toEqual([
      "payments",
      "payments",
    ]);
    expect(fromQuery.series[0]!.serviceField).toBe("service");

    const boundToken = decode(body, { fixed: null });
    expect(boundToken.series.map((series) => series.service)).toEqual([
      null,
      null,
    ]);
  });

  it("leaves the service null without service or job", () => {
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "up", instance: "a", job: "---" }),
            samples: [{ value: 1, timestamp: T0 }],
          },
        ],
      }),
    );

    // "---" gives no slug, so storeSeries will ask for a service.
    expect(decoded.series[0]!.service).toBeNull();
  });

  it("drops labels with empty values", () => {
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "up", job: "node", zone: "" }),
            samples: [{ value: 1, timestamp: T0 }],
          },
        ],
      }),
    );

    expect(decoded.series[0]!.labels).toEqual({ job: "node" });
  });

  it("reads int64 timestamps exactly", () => {
    const timestamps = [
      0,
      1,
      127,
      128,
      2 ** 28 - 1,
      2 ** 28,
      2 ** 35 - 1,
      2 ** 35,
      T0,
      2 ** 53 - 1,
      -1,
      -1000,
      -T0,
    ];
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "up", job: "node" }),
            samples: timestamps.map((timestamp, i) => ({ value: i, timestamp })),
          },
        ],
      }),
    );

    expect(decoded.series[0]!.timestamps).toEqual([
      0,
      1,
      127,
      128,
      268_435_455,
      268_435_456,
      34_359_738_367,
      34_359_738_368,
      1_760_000_000_000,
      9_007_199_254_740_991,
      -1,
      -1000,
      -1_760_000_000_000,
    ]);
    expect(decoded.series[0]!.values).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it("reads absent sample fields as zero", () => {
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "up", job: "node" }),
            samples: [{ timestamp: T0 }, { value: 3 }],
          },
        ],
      }),
    );

    expect(decoded.series[0]!.timestamps).toEqual([T0, 0]);
    expect(decoded.series[0]!.values).toEqual([0, 3]);
  });

  it("keeps stale markers and infinities as values", () => {
    // Prometheus marks a stale series with this NaN bit pattern.
    const staleMarker = new DataView(new ArrayBuffer(8));
    staleMarker.setUint32(0, 0x7ff00000);
    staleMarker.setUint32(4, 0x00000002);
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "up", job: "node" }),
            samples: [
              { value: staleMarker.getFloat64(0), timestamp: T0 },
              { value: Infinity, timestamp: T0 + 1 },
              { value: -Infinity, timestamp: T0 + 2 },
              { value: -0.5, timestamp: T0 + 3 },
            ],
          },
        ],
      }),
    );

    // storeSeries counts the three non-finite values as skipped.
    const values = decoded.series[0]!.values;
    expect(values).toHaveLength(4);
    expect(Number.isNaN(values[0])).toBe(true);
    expect(values.slice(1)).toEqual([Infinity, -Infinity, -0.5]);
    expect(decoded.samples).toBe(4);
  });

  it("skips and counts histograms and exemplars", () => {
    const decoded = decode(
      encode({
        timeseries: [
          {
            labels: labels({ __name__: "request_duration_seconds", job: "api" }),
            histograms: [
              { countInt: 10, sum: 2.5, timestamp: T0 },
              { countInt: 12, sum: 3, timestamp: T0 + 15_000 },
            ],
          },
          {
            labels: labels({ __name__: "requests_total", job: "api" }),
            samples: [{ value: 7, timestamp: T0 }],
            exemplars: [
              {
                labels: labels({ trace_id: "4bf92f3577b34da6" }),
                value: 0.12,
                timestamp: T0,
              },
            ],
          },
        ],
      }),
    );

    expect(decoded.skippedHistograms).toBe(2);
    expect(decoded.skippedExemplars).toBe(1);
    // The histogram-only series has no float samples and is left out.
    expect(decoded.series).toHaveLength(1);
    expect(decoded.series[0]).toMatchObject({
      name: "requests_total",
      field: "timeseries[1]",
      values: [7],
    });
    expect(decoded.samples).toBe(1);
  });

  it("accepts a metadata-only request", () => {
    const decoded = decode(
      encode({
        metadata: [
          { type: 1, metricFamilyName: "requests_total", help: "Requests." },
        ],
      }),
    );

    expect(decoded).toEqual({
      series: [],
      samples: 0,
      skippedHistograms: 0,
      skippedExemplars: 0,
    });
  });

  it("skips unknown fields", () => {
    const body = rawRequest((writer) => {
      writer.uint32(tag(2, 2)).string("cortex-source"); // reserved field 2
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("__name__");
      writer.uint32(tag(2, 2)).string("up");
      writer.uint32(tag(7, 0)).uint32(99); // unknown label field
      writer.ldelim();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("job");
      writer.uint32(tag(2, 2)).string("node");
      writer.ldelim();
      writer.uint32(tag(2, 2)).fork();
      writer.uint32(tag(1, 1)).double(4.5);
      writer.uint32(tag(2, 0)).int64(T0);
      writer.uint32(tag(9, 5)).fixed32(1); // unknown sample field
      writer.ldelim();
      writer.uint32(tag(20, 2)).string("unknown series field");
      writer.ldelim();
    });

    const decoded = decode(body);

    expect(decoded.series).toHaveLength(1);
    expect(decoded.series[0]).toMatchObject({
      name: "up",
      labels: { job: "node" },
      timestamps: [T0],
      values: [4.5],
    });
  });

  it("agrees with the reflected decoder", () => {
    // 300 series of 1 to 3 samples with varied labels, decoded both ways.
    const timeseries: TimeSeries[] = [];
    for (let i = 0; i < 300; i += 1) {
      timeseries.push({
        labels: labels({
          __name__: `metric_${i % 7}`,
          instance: `host-${i}.example:9100`,
          job: ["api", "db", "Edge Gateway"][i % 3]!,
          path: `/items/${i}/ü`,
        }),
        samples: Array.from({ length: 1 + (i % 3) }, (_, k) => ({
          value: i * 0.5 - k,
          timestamp: T0 + k * 15_000 - i,
        })),
      });
    }
    const body = encode({ timeseries });

    const reflected = WriteRequest.toObject(WriteRequest.decode(body), {
      longs: Number,
      defaults: true,
    }) as { timeseries: Required<TimeSeries>[] };
    const fast = decode(body);

    expect(fast.series).toHaveLength(reflected.timeseries.length);
    reflected.timeseries.forEach((series, i) => {
      const byName = Object.fromEntries(
        series.labels.map((label) => [label.name, label.value]),
      );
      const { __name__: name, ...rest } = byName;
      expect(fast.series[i]!.name).toBe(name);
      expect(fast.series[i]!.labels).toEqual(rest);
      expect(fast.series[i]!.timestamps).toEqual(
        series.samples.map((sample) => sample.timestamp),
      );
      expect(fast.series[i]!.values).toEqual(
        series.samples.map((sample) => sample.value),
      );
    });
  });
});

describe("decodeWriteRequest errors", () => {
  it("rejects a series without __name__", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: labels({ __name__: "up", job: "node" }),
              samples: [{ value: 1, timestamp: T0 }],
            },
            {
              labels: labels({ instance: "host-a", job: "node" }),
              samples: [{ value: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[1].labels");
    expect(error.message).toBe(
      "timeseries[1] has no __name__ label, so it has no metric name: " +
        'series {instance="host-a",job="node"}',
    );
  });

  it("rejects an empty __name__", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: labels({ __name__: "", job: "node" }),
              samples: [{ value: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].labels");
  });

  it("rejects an invalid metric name", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: labels({ __name__: "http.server.duration", job: "a" }),
              samples: [{ value: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_field");
    expect(error.field).toBe("timeseries[0].labels.__name__");
    expect(error.message).toBe(
      "timeseries[0].labels.__name__ must be a Prometheus metric name " +
        "matching [a-zA-Z_:][a-zA-Z0-9_:]* of at most 200 characters, " +
        'got http.server.duration{job="a"}',
    );
  });

  it("checks the name of a series without samples", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: labels({ job: "node" }),
              histograms: [{ countInt: 1, sum: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.field).toBe("timeseries[0].labels");
  });

  it("rejects a repeated label name", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: [
                { name: "__name__", value: "up" },
                { name: "job", value: "a" },
                { name: "job", value: "b" },
              ],
              samples: [{ value: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].labels");
    expect(error.message).toBe(
      'timeseries[0].labels contains the label name "job" more than once',
    );
  });

  it("rejects a __proto__ label", () => {
    const error = thrown(() =>
      decode(
        encode({
          timeseries: [
            {
              labels: [
                { name: "__name__", value: "up" },
                { name: "__proto__", value: "x" },
              ],
              samples: [{ value: 1, timestamp: T0 }],
            },
          ],
        }),
      ),
    );

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].labels");
    expect(error.message).toBe(
      'timeseries[0].labels has an invalid label name "__proto__": label ' +
        "names starting with __ are reserved",
    );
  });

  it("rejects bytes that are not protobuf", () => {
    const error = thrown(() =>
      decode(new TextEncoder().encode('{"timeseries": []}')),
    );

    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_protobuf");
    expect(error.message).toMatch(
      /^request body is not a valid remote write 1\.0 WriteRequest: .+, at byte \d+ of 18 after snappy decompression$/,
    );
  });

  it("rejects a length past the end", () => {
    // Field 1, length 100, but only 3 bytes follow.
    const error = thrown(() => decode(Uint8Array.from([0x0a, 100, 1, 2, 3])));

    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "request body is not a valid remote write 1.0 WriteRequest: length " +
        "100 runs past the end of the enclosing message in timeseries[0], " +
        "at byte 2 of 5 " +
        "after snappy decompression",
    );
  });

  it("rejects a wrong wire type", () => {
    const body = rawRequest((writer) => {
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("__name__");
      writer.uint32(tag(2, 2)).string("up");
      writer.ldelim();
      writer.uint32(tag(2, 2)).fork();
      writer.uint32(tag(1, 0)).uint32(5); // value as a varint, not a double
      writer.ldelim();
      writer.ldelim();
    });

    const error = thrown(() => decode(body));

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].samples[0]");
    expect(error.message).toMatch(
      /^request body is not a valid remote write 1\.0 WriteRequest: field 1 has wire type 0, expected 1 in timeseries\[0\]\.samples\[0\], at byte \d+ of \d+/,
    );
  });

  it("rejects a sample cut short", () => {
    const body = rawRequest((writer) => {
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("__name__");
      writer.uint32(tag(2, 2)).string("up");
      writer.ldelim();
      // A sample of 4 bytes: its double needs 8.
      writer.uint32(tag(2, 2)).bytes(Uint8Array.from([tag(1, 1), 0, 0, 0]));
      writer.ldelim();
    });

    const error = thrown(() => decode(body));

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].samples[0]");
  });

  it("rejects invalid UTF-8 in a label", () => {
    const body = rawRequest((writer) => {
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("__name__");
      writer.uint32(tag(2, 2)).string("up");
      writer.ldelim();
      writer.uint32(tag(1, 2)).fork();
      writer.uint32(tag(1, 2)).string("job");
      writer.uint32(tag(2, 2)).bytes(Uint8Array.from([0x6e, 0xff, 0x64]));
      writer.ldelim();
      writer.ldelim();
    });

    const error = thrown(() => decode(body));

    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[0].labels[1]");
    expect(error.message).toMatch(
      /^request body is not a valid remote write 1\.0 WriteRequest: a string is not valid UTF-8 in timeseries\[0\]\.labels\[1\]/,
    );
  });
});

describe("decompressSnappy", () => {
  it("round-trips a WriteRequest", () => {
    const body = encode({
      timeseries: [
        {
          labels: labels({ __name__: "up", job: "node" }),
          samples: [{ value: 1, timestamp: T0 }],
        },
      ],
    });

    const decompressed = decompressSnappy(compressSync(Buffer.from(body)), 1000);

    expect(Buffer.from(decompressed).equals(Buffer.from(body))).toBe(true);
  });

  it("rejects bytes that are not snappy", () => {
    const error = thrown(() =>
      decompressSnappy(new TextEncoder().encode("not snappy at all"), 1000),
    );

    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_encoding");
    expect(error.message).toMatch(
      /^request body is not valid snappy block-format data: corrupt input/,
    );
  });

  it("rejects the snappy framing format", () => {
    const framed = Uint8Array.from([
      0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59, 0x01, 0x00,
    ]);

    const error = thrown(() => decompressSnappy(framed, 1000));

    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "request body is not valid snappy block-format data: it is in the " +
        "snappy framing (stream) format, but remote write uses the block format",
    );
  });

  it("rejects an empty body", () => {
    const error = thrown(() => decompressSnappy(new Uint8Array(0), 1000));

    expect(error.status).toBe(400);
    expect(error.message).toBe(
      "request body is empty; send a snappy-compressed WriteRequest",
    );
  });

  it("rejects a decompressed size over the limit", () => {
    const compressed = compressSync(Buffer.alloc(2000, 0x61));

    const error = thrown(() => decompressSnappy(compressed, 1999));

    expect(error.status).toBe(413);
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toMatch(
      /^decompressed request body would be 2000 bytes, more than the limit of 1999 bytes/,
    );
    expect(decompressSnappy(compressed, 2000)).toHaveLength(2000);
  });
});

describe("checkRemoteWriteHeaders", () => {
  function request(headers: Record<string, string>): Request {
    return new Request("http://127.0.0.1/api/v1/prometheus/write", {
      method: "POST",
      headers,
    });
  }

  it.each([
    ["application/x-protobuf"],
    ["application/x-protobuf; proto=prometheus.WriteRequest"],
    ["Application/X-Protobuf;proto=\"prometheus.WriteRequest\""],
  ])("accepts Content-Type %s", (contentType) => {
    expect(() =>
      checkRemoteWriteHeaders(
        request({ "content-type": contentType, "content-encoding": "snappy" }),
      ),
    ).not.toThrow();
  });

  it("rejects remote write 2.0", () => {
    const error = thrown(() =>
      checkRemoteWriteHeaders(
        request({
          "content-type":
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
          "content-encoding": "snappy",
        }),
      ),
    );

    expect(error.status).toBe(415);
    expect(error.code).toBe("unsupported_media_type");
    expect(error.field).toBe("Content-Type");
    expect(error.message).toBe(
      "remote write message io.prometheus.write.v2.Request is not " +
        "supported; Vigil accepts remote write 1.0 (prometheus.WriteRequest). " +
        "In Prometheus, set protobuf_message: prometheus.WriteRequest in the " +
        "remote_write entry",
    );
  });

  it.each([
    [{ "content-encoding": "snappy" }, "Content-Type is missing"],
    [
      { "content-type": "application/json", "content-encoding": "snappy" },
      'Content-Type "application/json" is not supported',
    ],
  ])("rejects the media type of %j", (headers, start) => {
    const error = thrown(() => checkRemoteWriteHeaders(request(headers)));

    expect(error.status).toBe(415);
    expect(error.field).toBe("Content-Type");
    expect(error.message).toBe(
      `${start}; remote write sends "application/x-protobuf"`,
    );
  });

  it("reads a missing encoding as snappy", () => {
    expect(() =>
      checkRemoteWriteHeaders(
        request({ "content-type": "application/x-protobuf" }),
      ),
    ).not.toThrow();
  });

  it.each([
    [{ "content-encoding": "gzip" }, 'Content-Encoding "gzip" is not supported'],
    [{ "content-encoding": "br" }, 'Content-Encoding "br" is not supported'],
  ])("rejects the encoding of %j", (headers, start) => {
    const error = thrown(() =>
      checkRemoteWriteHeaders(
        request({ "content-type": "application/x-protobuf", ...headers }),
      ),
    );

    expect(error.status).toBe(415);
    expect(error.code).toBe("unsupported_encoding");
    expect(error.field).toBe("Content-Encoding");
    expect(error.message).toBe(
      `${start}; remote write bodies must be snappy-compressed (block ` +
        "format) with Content-Encoding: snappy",
    );
  });
});
