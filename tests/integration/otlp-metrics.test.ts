import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST } from "@/app/api/v1/otlp/v1/metrics/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import {
  ExportMetricsServiceRequest,
  ExportMetricsServiceResponse,
  RpcStatus,
} from "@/lib/ingest/otlp/schema";
import { truncateAll } from "@/tests/support/database";

// The OTLP/HTTP metrics route against a real PostgreSQL, through its
// exported POST with Request objects: the public fixtures in both
// encodings, retries, partial success, and bad requests that store nothing.

// The fixtures date from 2018 and 2020, so the age limit is raised to let
// them in. getConfig() reads it on first use, inside the first request.
vi.stubEnv("VIGIL_INGEST_MAX_AGE_DAYS", "20000");
vi.stubEnv("VIGIL_INGEST_MAX_POINTS", "1000");

const URL = "http://127.0.0.1/api/v1/otlp/v1/metrics";
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

const PROTOBUF = "application/x-protobuf";
const JSON_TYPE = "application/json";
/** A millisecond-aligned time ten minutes ago, in nanoseconds. */
const RECENT_MS = Date.now() - 10 * 60_000;
const RECENT_NS = `${RECENT_MS}000000`;

let token: string;

function toProtobuf(text: string): Uint8Array {
  return ExportMetricsServiceRequest.encode(
    ExportMetricsServiceRequest.fromObject(JSON.parse(text)),
  ).finish();
}

async function send(
  body: string | Uint8Array,
  contentType: string,
  options: {
    query?: string;
    auth?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const auth = options.auth === undefined ? token : options.auth;
  return POST(
    new Request(URL + (options.query ?? ""), {
      method: "POST",
      headers: {
        "content-type": contentType,
        ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
        ...options.headers,
      },
      body: typeof body === "string" ? body : Buffer.from(body),
    }),
  );
}

async function counts() {
  const { rows } = await getPool().query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM service) AS services,
            (SELECT count(*) FROM metric_series) AS series,
            (SELECT count(*) FROM data_point) AS points`,
  );
  return rows[0];
}

const EMPTY = { services: "0", series: "0", points: "0" };

/** Returns every stored point with its service, series and time. */
async function storedPoints() {
  const { rows } = await getPool().query(
    `SELECT s.slug AS service, m.name, m.labels, p.ts, p.value
       FROM data_point p
       JOIN metric_series m ON m.id = p.series_id
       JOIN service s ON s.id = m.service_id
      ORDER BY m.name, m.labels_key, p.ts`,
  );
  return rows as {
    service: string;
    name: string;
    labels: Record<string, string>;
    ts: Date;
    value: number;
  }[];
}

async function protobufStatus(response: Response) {
  const bytes = new Uint8Array(await response.arrayBuffer());
  return RpcStatus.toObject(RpcStatus.decode(bytes)) as {
    code?: number;
    message?: string;
  };
}

const EXAMPLE_TIME = new Date(1544712660300);
const ATTR = "some value";
const EXAMPLE_POINTS = [
  { name: "my_counter", labels: { my_counter_attr: ATTR }, value: 5 },
  { name: "my_gauge", labels: { my_gauge_attr: ATTR }, value: 10 },
  {
    name: "my_histogram_bucket",
    labels: { le: "+Inf", my_histogram_attr: ATTR },
    value: 2,
  },
  {
    name: "my_histogram_bucket",
    labels: { le: "1", my_histogram_attr: ATTR },
    value: 1,
  },
  { name: "my_histogram_count", labels: { my_histogram_attr: ATTR }, value: 2 },
  { name: "my_histogram_sum", labels: { my_histogram_attr: ATTR }, value: 2 },
].map((point) => ({ service: "my-service", ts: EXAMPLE_TIME, ...point }));

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "otel collector", scope: "ingest" }));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeDb();
});

describe("POST /api/v1/otlp/v1/metrics with JSON", () => {
  it("stores the official example", async () => {
    const response = await send(OFFICIAL_EXAMPLE, JSON_TYPE, {
      headers: { "x-request-id": "otlp-1" },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("x-request-id")).toBe("otlp-1");
    expect(await response.json()).toEqual({});
    expect(await storedPoints()).toEqual(EXAMPLE_POINTS);
  });

  it("stores a retried request once", async () => {
    expect((await send(OFFICIAL_EXAMPLE, JSON_TYPE)).status).toBe(200);
    const retry = await send(OFFICIAL_EXAMPLE, JSON_TYPE);

    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({});
    expect(await counts()).toEqual({ services: "1", series: "6", points: "6" });
    expect(await storedPoints()).toEqual(EXAMPLE_POINTS);
  });

  it("keeps the first point of each millisecond", async () => {
    // Every point of the file falls within one millisecond, so each of the
    // two series keeps the value of the first request.
    for (const line of FILE_EXPORTER_LINES) {
      const response = await send(line, JSON_TYPE, {
        query: "?service=file-exporter",
      });
      expect(response.status).toBe(200);
    }
    const time = new Date(1581452773000);
    expect(await storedPoints()).toEqual([
      {
        service: "file-exporter",
        name: "counter_int_total",
        labels: { label_1: "label-value-1" },
        ts: time,
        value: 123,
      },
      {
        service: "file-exporter",
        name: "counter_int_total",
        labels: { label_2: "label-value-2" },
        ts: time,
        value: 456,
      },
    ]);
  });

  it("answers an empty request with {}", async () => {
    const response = await send("{}", JSON_TYPE);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    expect(await counts()).toEqual(EMPTY);
  });

  it("reports exponential histograms as partial success", async () => {
    const body = JSON.stringify({
      resourceMetrics: [
        {
          resource: {
            attributes: [{ key: "service.name", value: { stringValue: "api" } }],
          },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: "queue.depth",
                  gauge: {
                    dataPoints: [{ timeUnixNano: RECENT_NS, asInt: "4" }],
                  },
                },
                {
                  name: "latency",
                  exponentialHistogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      { timeUnixNano: RECENT_NS, count: "3" },
                      { timeUnixNano: RECENT_NS, count: "1" },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    const response = await send(body, JSON_TYPE);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      partialSuccess: {
        rejectedDataPoints: "2",
        errorMessage:
          "rejected 2 exponential histogram data points (latency) because " +
          "Vigil does not store exponential histograms; configure the " +
          "exporter or a view to send explicit bucket histograms instead",
      },
    });
    expect(await storedPoints()).toEqual([
      {
        service: "api",
        name: "queue_depth",
        labels: {},
        ts: new Date(RECENT_MS),
        value: 4,
      },
    ]);
  });
});

describe("POST /api/v1/otlp/v1/metrics with protobuf", () => {
  it("stores the official example", async () => {
    const response = await send(toProtobuf(OFFICIAL_EXAMPLE), PROTOBUF);

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(PROTOBUF);
    expect(response.headers.get("x-request-id")).not.toBeNull();
    // An ExportMetricsServiceResponse without partialSuccess has no bytes.
    expect((await response.arrayBuffer()).byteLength).toBe(0);
    expect(await storedPoints()).toEqual(EXAMPLE_POINTS);
  });

  it("stores gzip bodies and retries once", async () => {
    const body = gzipSync(toProtobuf(OFFICIAL_EXAMPLE));
    const headers = { "content-encoding": "gzip" };
    expect((await send(body, PROTOBUF, { headers })).status).toBe(200);
    expect((await send(body, PROTOBUF, { headers })).status).toBe(200);
    // The same request as JSON is a retry too.
    expect((await send(OFFICIAL_EXAMPLE, JSON_TYPE)).status).toBe(200);

    expect(await counts()).toEqual({ services: "1", series: "6", points: "6" });
  });

  it("encodes partial success as protobuf", async () => {
    const body = toProtobuf(
      JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: "g",
                    gauge: {
                      dataPoints: [
                        { timeUnixNano: RECENT_NS, asDouble: Number.NaN },
                        { timeUnixNano: RECENT_NS, asDouble: 1 },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }).replace("null", '"NaN"'),
    );
    const response = await send(body, PROTOBUF, { query: "?service=api" });

    expect(response.status).toBe(200);
    const decoded = ExportMetricsServiceResponse.decode(
      new Uint8Array(await response.arrayBuffer()),
    );
    expect(
      ExportMetricsServiceResponse.toObject(decoded, { longs: Number }),
    ).toEqual({
      partialSuccess: {
        rejectedDataPoints: 1,
        errorMessage:
          "rejected 1 data point whose value is NaN or infinite, which " +
          "Vigil does not store",
      },
    });
    expect(await counts()).toEqual({ services: "1", series: "1", points: "1" });
  });
});

describe("POST /api/v1/otlp/v1/metrics rejections", () => {
  /** The official example with a snake_case field in its last metric. */
  const snakeCase = OFFICIAL_EXAMPLE.replace(
    '"explicitBounds"',
    '"explicit_bounds"',
  );

  it("rejects snake_case JSON and stores nothing", async () => {
    const response = await send(snakeCase, JSON_TYPE);

    expect(response.status).toBe(400);
    const field =
      "resourceMetrics[0].scopeMetrics[0].metrics[2].histogram" +
      ".dataPoints[0].explicit_bounds";
    expect(await response.json()).toMatchObject({
      error: {
        code: "invalid_field",
        field,
        message:
          `${field} is a protobuf field name, which OTLP/JSON does not ` +
          "accept: send the lowerCamelCase name explicitBounds",
      },
    });
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects truncated protobuf with a Status", async () => {
    const bytes = toProtobuf(OFFICIAL_EXAMPLE);
    const response = await send(bytes.subarray(0, bytes.length - 5), PROTOBUF);

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe(PROTOBUF);
    const status = await protobufStatus(response);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(
      /^request body is not a valid OTLP ExportMetricsServiceRequest: .* \(request id [\w-]+\)$/,
    );
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a missing token with a Status", async () => {
    const response = await send(toProtobuf(OFFICIAL_EXAMPLE), PROTOBUF, {
      auth: null,
    });

    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe(PROTOBUF);
    expect((await protobufStatus(response)).code).toBe(16);
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects other content types with 415", async () => {
    const response = await send(OFFICIAL_EXAMPLE, "text/plain");

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({
      error: {
        code: "unsupported_media_type",
        field: "Content-Type",
        message:
          'Content-Type "text/plain" is not supported; send ' +
          "application/x-protobuf (OTLP/HTTP protobuf) or " +
          "application/json (OTLP/JSON)",
      },
    });
  });

  it("rejects a too old point and stores nothing", async () => {
    const old = OFFICIAL_EXAMPLE.replace(
      /"timeUnixNano": 1544712660300000000/g,
      (match, offset: number) =>
        // Only the gauge's time moves back, to 1900.
        offset > OFFICIAL_EXAMPLE.indexOf('"my.gauge"') &&
        offset < OFFICIAL_EXAMPLE.indexOf('"my.histogram"')
          ? '"timeUnixNano": "1000000"'
          : match,
    );
    const response = await send(old, JSON_TYPE);

    expect(response.status).toBe(400);
    const json = (await response.json()) as { error: { message: string } };
    expect(json.error.message).toBe(
      "resourceMetrics[0].scopeMetrics[0].metrics[1].gauge.dataPoints[0]" +
        ".timeUnixNano must not be older than 20000 days " +
        "(VIGIL_INGEST_MAX_AGE_DAYS), got 1 (1970-01-01T00:00:00.001Z)",
    );
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a request without a service", async () => {
    const response = await send(FILE_EXPORTER_LINES[0]!, JSON_TYPE);

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: {
        code: "missing_service",
        field: "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0]",
        message:
          "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0] " +
          "names no service: add a service or job label (service.name for " +
          "OTLP), pass ?service=<slug> in the URL, or use a token bound to " +
          "one service",
      },
    });
    expect(await counts()).toEqual(EMPTY);
  });

  it("stores into the service of a bound token", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      "INSERT INTO service (slug, name) VALUES ('bound', 'Bound') RETURNING id",
    );
    const bound = await createApiToken({
      name: "bound collector",
      scope: "ingest",
      serviceId: rows[0]!.id,
    });
    const response = await send(FILE_EXPORTER_LINES[0]!, JSON_TYPE, {
      auth: bound.token,
    });

    expect(response.status).toBe(200);
    const points = await storedPoints();
    expect(points.map((point) => point.service)).toEqual(["bound", "bound"]);
  });
});
