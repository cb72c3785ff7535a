import pino from "pino";
import {
  afterAll,
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  vi,
} from "vitest";

import { POST } from "@/app/api/v1/metrics/route";
import { createApiToken, revokeApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { logger } from "@/lib/logger";
import { TASK_ENQUEUE_SCORING } from "@/lib/queue";
import { truncateAll } from "@/tests/support/database";

// Small limits keep the oversized requests small. getConfig() reads them
// on first use, which happens inside the first request.
const MAX_BODY_BYTES = 65_536;
const MAX_POINTS = 1000;
vi.stubEnv("VIGIL_INGEST_MAX_BODY_BYTES", String(MAX_BODY_BYTES));
vi.stubEnv("VIGIL_INGEST_MAX_POINTS", String(MAX_POINTS));

const URL = "http://127.0.0.1/api/v1/metrics";
const MINUTE = 60_000;
const now = Date.now();
/** A minute-aligned time ten minutes ago, so that ISO and ms forms agree. */
const base = Math.floor(now / MINUTE) * MINUTE - 10 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

let token: string;
let tokenId: number;
let logLines: string[] = [];
const streamSymbol = pino.symbols.streamSym as unknown as string;
const loggerStreams = logger as unknown as Record<string, unknown>;
const originalStream = loggerStreams[streamSymbol];

function request(
  body: unknown,
  headers: Record<string, string> = {},
  auth: string | null = token,
): Request {
  return new Request(URL, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(auth === null ? {} : { authorization: `Bearer ${auth}` }),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function send(
  body: unknown,
  headers: Record<string, string> = {},
  auth: string | null = token,
) {
  const response = await POST(request(body, headers, auth));
  return { response, json: (await response.json()) as Record<string, any> };
}

async function counts() {
  const { rows } = await getPool().query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM service) AS services,
            (SELECT count(*) FROM metric_series) AS series,
            (SELECT count(*) FROM data_point) AS points,
            (SELECT count(*) FROM graphile_worker._private_jobs) AS jobs`,
  );
  return rows[0];
}

function validBatch() {
  return {
    service: "checkout",
    series: [
      {
        name: "http_requests",
        labels: { route: "/pay", method: "POST" },
        points: [
          [iso(base), 12.5],
          [base + MINUTE, 13],
        ],
      },
      { name: "cpu_seconds:rate5m", points: [[iso(base), 0.25]] },
    ],
  };
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token, id: tokenId } = await createApiToken({
    name: "test ingest",
    scope: "ingest",
  }));
  logLines = [];
  loggerStreams[streamSymbol] = {
    write: (line: string) => logLines.push(line),
  };
});

afterEach(() => {
  loggerStreams[streamSymbol] = originalStream;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeDb();
});

describe("POST /api/v1/metrics", () => {
  it("stores a valid batch exactly", async () => {
    const { response, json } = await send(validBatch(), {
      "x-request-id": "req-123",
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("req-123");
    expect(json).toEqual({
      accepted: { series: 2, points: 3 },
      duplicates: 0,
      requestId: "req-123",
    });

    const services = await getPool().query(
      "SELECT slug, name FROM service",
    );
    expect(services.rows).toEqual([{ slug: "checkout", name: "checkout" }]);

    const series = await getPool().query(
      `SELECT id, name, labels, labels_key, last_point_at
       FROM metric_series ORDER BY name`,
    );
    expect(series.rows).toHaveLength(2);
    expect(series.rows[0]).toMatchObject({
      name: "cpu_seconds:rate5m",
      labels: {},
      labels_key: "{}",
      last_point_at: null,
    });
    expect(series.rows[1]).toMatchObject({
      name: "http_requests",
      labels: { method: "POST", route: "/pay" },
      labels_key: '{"method":"POST","route":"/pay"}',
      last_point_at: null,
    });

    const points = await getPool().query(
      `SELECT s.name, p.ts, p.value FROM data_point p
       JOIN metric_series s ON s.id = p.series_id ORDER BY s.name, p.ts`,
    );
    expect(points.rows).toEqual([
      { name: "cpu_seconds:rate5m", ts: new Date(base), value: 0.25 },
      { name: "http_requests", ts: new Date(base), value: 12.5 },
      { name: "http_requests", ts: new Date(base + MINUTE), value: 13 },
    ]);

    const jobs = await getPool().query(
      `SELECT t.identifier, j.payload, j.key, q.queue_name
       FROM graphile_worker._private_jobs j
       JOIN graphile_worker._private_tasks t ON t.id = j.task_id
       LEFT JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id`,
    );
    const ids = series.rows.map((row) => row.id).sort((a, b) => a - b);
    expect(jobs.rows).toEqual([
      {
        identifier: TASK_ENQUEUE_SCORING,
        payload: { seriesIds: ids },
        key: null,
        queue_name: null,
      },
    ]);
  });

  it("stores nothing twice on retry", async () => {
    await send(validBatch());
    const before = await counts();

    const { response, json } = await send(validBatch());

    expect(response.status).toBe(200);
    expect(json.accepted).toEqual({ series: 2, points: 0 });
    expect(json.duplicates).toBe(3);
    expect(await counts()).toEqual(before);
  });

  it("counts duplicates within one batch", async () => {
    const { json } = await send({
      service: "checkout",
      series: [
        { name: "up", labels: { a: "1", b: "2" }, points: [[base, 1]] },
        {
          name: "up",
          labels: { b: "2", a: "1" },
          points: [
            [iso(base), 2],
            [base + MINUTE, 3],
          ],
        },
      ],
    });

    expect(json.accepted).toEqual({ series: 1, points: 2 });
    expect(json.duplicates).toBe(1);
    const points = await getPool().query(
      "SELECT value FROM data_point ORDER BY ts",
    );
    expect(points.rows).toEqual([{ value: 1 }, { value: 3 }]);
  });

  it("adds no scoring job for a request of duplicates", async () => {
    await send(validBatch());
    await getPool().query("DELETE FROM graphile_worker._private_jobs");

    await send(validBatch());

    expect((await counts())!.jobs).toBe("0");
  });

  it("serialises concurrent overlapping batches", async () => {
    const first = validBatch();
    const second = { ...validBatch(), series: [...validBatch().series].reverse() };

    const results = await Promise.all([send(first), send(second)]);

    expect(results.map((result) => result.response.status)).toEqual([200, 200]);
    const stored = results.reduce(
      (sum, result) => sum + result.json.accepted.points,
      0,
    );
    expect(stored).toBe(3);
    expect((await counts())!.points).toBe("3");
  });

  it("generates a request id when none is sent", async () => {
    const { response, json } = await send(validBatch());

    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.requestId).toBe(requestId);
  });

  it("lets a bound token write its service", async () => {
    await send(validBatch());
    const serviceId = (await getPool().query("SELECT id FROM service")).rows[0]
      .id;
    const bound = await createApiToken({
      name: "bound",
      scope: "ingest",
      serviceId,
    });

    const { response } = await send(validBatch(), {}, bound.token);

    expect(response.status).toBe(200);
  });

  it("never logs the token", async () => {
    await send(validBatch());
    await send("{", {});
    await send(validBatch(), {}, token.slice(0, -1) + "A");

    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) {
      expect(line).not.toContain(token);
      expect(line).not.toContain(token.slice(4));
    }
  });

  it("logs a rejection at warn with ids", async () => {
    await send({ service: "checkout" }, { "x-request-id": "req-warn" });

    const warnings = logLines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      requestId: "req-warn",
      route: "POST /api/v1/metrics",
      tokenId,
      status: 400,
      field: "series",
      reason: "series is required",
    });
  });
});

type BadCase = {
  name: string;
  body: unknown | (() => unknown);
  headers?: Record<string, string>;
  /** Token to send; undefined sends the valid ingest token. */
  auth?: string | null | (() => Promise<string>);
  status: number;
  code: string;
  field?: string;
  message: string | RegExp;
};

function withPoint(point: unknown[]) {
  return {
    service: "checkout",
    series: [
      { name: "up", points: [[base, 1]] },
      { name: "latency", points: [[base, 1], point] },
    ],
  };
}

const BAD_CASES: BadCase[] = [
  {
    name: "malformed JSON",
    body: '{"service": "checkout", "series": [}',
    status: 400,
    code: "invalid_json",
    message: "invalid JSON at position 35: unexpected character '}'",
  },
  {
    name: "empty body",
    body: "",
    status: 400,
    code: "invalid_json",
    message: "invalid JSON at position 0: the request body is empty",
  },
  {
    name: "body not an object",
    body: [1, 2],
    status: 400,
    code: "invalid_body",
    message: "request body must be an object, got an array",
  },
  {
    name: "missing service",
    body: { series: [{ name: "up", points: [[base, 1]] }] },
    status: 400,
    code: "invalid_field",
    field: "service",
    message: "service is required",
  },
  {
    name: "invalid service slug",
    body: { service: "Check Out", series: [{ name: "up", points: [[base, 1]] }] },
    status: 400,
    code: "invalid_field",
    field: "service",
    message: /^service must be 1 to 63 characters .* got "Check Out"$/,
  },
  {
    name: "missing points",
    body: { service: "checkout", series: [{ name: "up" }] },
    status: 400,
    code: "invalid_field",
    field: "series[0].points",
    message: "series[0].points is required",
  },
  {
    name: "unknown field",
    body: { service: "checkout", series: [{ name: "up", point: [] }] },
    status: 400,
    code: "invalid_field",
    field: "series[0].points",
    message: "series[0].points is required",
  },
  {
    name: "value abc",
    body: withPoint([base, "abc"]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][1]",
    message: 'series[1].points[1][1] must be a finite number, got "abc"',
  },
  {
    name: "value null",
    body: withPoint([base + MINUTE, null]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][1]",
    message: "series[1].points[1][1] must be a finite number, got null",
  },
  {
    name: "value NaN as a string",
    body: withPoint([base + MINUTE, "NaN"]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][1]",
    message: 'series[1].points[1][1] must be a finite number, got "NaN"',
  },
  {
    name: "value overflowing to Infinity",
    body: `{"service":"checkout","series":[{"name":"up","points":[[${base},1e999]]}]}`,
    status: 400,
    code: "invalid_field",
    field: "series[0].points[0][1]",
    message: "series[0].points[0][1] must be a finite number, got Infinity",
  },
  {
    name: "point with three items",
    body: withPoint([base + MINUTE, 1, 2]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1]",
    message: "series[1].points[1] must be a [timestamp, value] pair",
  },
  {
    name: "timestamp in 1990",
    body: withPoint(["1990-01-01T00:00:00Z", 1]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][0]",
    message:
      "series[1].points[1][0] must not be older than 365 days " +
      '(VIGIL_INGEST_MAX_AGE_DAYS), got "1990-01-01T00:00:00Z"',
  },
  {
    name: "timestamp far in the future",
    body: withPoint([now + 3_600_000, 1]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][0]",
    message: new RegExp(
      "^series\\[1\\]\\.points\\[1\\]\\[0\\] must not be later than 10 " +
        `minutes from now \\(VIGIL_INGEST_MAX_FUTURE_MINUTES\\), got ${now + 3_600_000}$`,
    ),
  },
  {
    name: "timestamp without zone",
    body: withPoint(["2026-12-04T10:00:00", 1]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][0]",
    message:
      "series[1].points[1][0] must be an RFC 3339 timestamp with a time " +
      "zone (such as 2026-12-04T10:00:00Z) or epoch milliseconds, " +
      'got "2026-12-04T10:00:00"',
  },
  {
    name: "timestamp in epoch seconds",
    body: withPoint([Math.floor(base / 1000), 1]),
    status: 400,
    code: "invalid_field",
    field: "series[1].points[1][0]",
    message: /it looks like epoch seconds, send milliseconds$/,
  },
  {
    name: "invalid metric name",
    body: { service: "checkout", series: [{ name: "http-requests", points: [[base, 1]] }] },
    status: 400,
    code: "invalid_field",
    field: "series[0].name",
    message: /^series\[0\]\.name must be a Prometheus metric name .* got "http-requests"$/,
  },
  {
    name: "invalid label name",
    body: {
      service: "checkout",
      series: [{ name: "up", labels: { "0zone": "a" }, points: [[base, 1]] }],
    },
    status: 400,
    code: "invalid_field",
    field: 'series[0].labels["0zone"]',
    message: /^series\[0\]\.labels\["0zone"\] is not a valid label name/,
  },
  {
    name: "too many labels",
    body: {
      service: "checkout",
      series: [
        {
          name: "up",
          labels: Object.fromEntries(
            Array.from({ length: 33 }, (_, i) => [`l${i}`, "v"]),
          ),
          points: [[base, 1]],
        },
      ],
    },
    status: 400,
    code: "invalid_field",
    field: "series[0].labels",
    message: "series[0].labels must contain at most 32 labels, got 33",
  },
  {
    name: "label value too long",
    body: {
      service: "checkout",
      series: [{ name: "up", labels: { a: "x".repeat(1025) }, points: [[base, 1]] }],
    },
    status: 400,
    code: "invalid_field",
    field: "series[0].labels.a",
    message: "series[0].labels.a must contain at most 1024 characters",
  },
  {
    name: "labels too large in all",
    body: {
      service: "checkout",
      series: [
        {
          name: "up",
          labels: { a: "x".repeat(1024), b: "y".repeat(1024) },
          points: [[base, 1]],
        },
      ],
    },
    status: 400,
    code: "invalid_field",
    field: "series[0].labels",
    message:
      "series[0].labels encode to 2063 bytes of JSON, more than the limit " +
      "of 2048; shorten the label values",
  },
  {
    name: "label value lone surrogate",
    body: () =>
      JSON.stringify({
        service: "checkout",
        series: [{ name: "up", labels: { a: "\ud800" }, points: [[base, 1]] }],
      }),
    status: 400,
    code: "invalid_field",
    field: "series[0].labels.a",
    message:
      "series[0].labels.a must not contain unpaired UTF-16 surrogates (invalid Unicode)",
  },
  {
    name: "label named __proto__",
    body: () => ({
      service: "checkout",
      series: [
        {
          name: "up",
          labels: JSON.parse('{"host": "a", "__proto__": "evil"}'),
          points: [[base, 1]],
        },
      ],
    }),
    status: 400,
    code: "invalid_field",
    field: "series[0].labels.__proto__",
    message:
      "series[0].labels.__proto__ is not a valid label name: names starting with __ are reserved",
  },
  {
    name: "reserved label name",
    body: {
      service: "checkout",
      series: [{ name: "up", labels: { __name__: "x" }, points: [[base, 1]] }],
    },
    status: 400,
    code: "invalid_field",
    field: "series[0].labels.__name__",
    message: /^series\[0\]\.labels\.__name__ is not a valid label name/,
  },
  {
    name: "no Authorization header",
    body: validBatch(),
    auth: null,
    status: 401,
    code: "unauthorized",
    message:
      "missing Authorization header; send Authorization: Bearer <API token>",
  },
  {
    name: "wrong token",
    body: validBatch(),
    auth: "vgl_" + "A".repeat(43),
    status: 401,
    code: "unauthorized",
    message: "invalid API token",
  },
  {
    name: "malformed token",
    body: validBatch(),
    auth: "not-a-token",
    status: 401,
    code: "unauthorized",
    message: "invalid API token",
  },
  {
    name: "revoked token",
    body: validBatch(),
    auth: async () => {
      const revoked = await createApiToken({ name: "old", scope: "ingest" });
      await revokeApiToken(revoked.id);
      return revoked.token;
    },
    status: 401,
    code: "unauthorized",
    message: "API token has been revoked",
  },
  {
    name: "bound token writing another service",
    body: validBatch(),
    auth: async () => {
      const other = await getPool().query(
        "INSERT INTO service (slug, name) VALUES ('billing', 'Billing') RETURNING id",
      );
      const bound = await createApiToken({
        name: "billing only",
        scope: "ingest",
        serviceId: other.rows[0].id,
      });
      return bound.token;
    },
    status: 403,
    code: "forbidden",
    field: "service",
    message: 'this API token may write only its own service, not "checkout"',
  },
  {
    name: "body over the limit",
    body: JSON.stringify(validBatch()) + " ".repeat(MAX_BODY_BYTES),
    status: 413,
    code: "payload_too_large",
    message:
      `request body is larger than the limit of ${MAX_BODY_BYTES} bytes ` +
      "(VIGIL_INGEST_MAX_BODY_BYTES)",
  },
  {
    name: "body over the limit with a false Content-Length",
    body: JSON.stringify(validBatch()) + " ".repeat(MAX_BODY_BYTES),
    headers: { "content-length": "100" },
    status: 413,
    code: "payload_too_large",
    message: /^request body is larger than the limit/,
  },
  {
    name: "declared Content-Length over the limit",
    body: validBatch(),
    headers: { "content-length": String(MAX_BODY_BYTES + 1) },
    status: 413,
    code: "payload_too_large",
    message: /^request body is larger than the limit/,
  },
  {
    name: "too many points",
    body: {
      service: "checkout",
      series: [
        {
          name: "up",
          points: Array.from({ length: MAX_POINTS + 1 }, (_, i) => [base - i, 1]),
        },
      ],
    },
    status: 413,
    code: "too_many_points",
    field: "series",
    message:
      `batch contains ${MAX_POINTS + 1} points, more than the limit of ` +
      `${MAX_POINTS} (VIGIL_INGEST_MAX_POINTS); split it into smaller batches`,
  },
];

describe("POST /api/v1/metrics rejects", () => {
  it.each(BAD_CASES)("$name", async (badCase) => {
    // A stored batch first, so that "nothing stored" compares non-zero counts.
    await send(validBatch());
    const auth =
      typeof badCase.auth === "function"
        ? await badCase.auth()
        : badCase.auth === undefined
          ? token
          : badCase.auth;
    const before = await counts();
    const body =
      typeof badCase.body === "function" ? badCase.body() : badCase.body;

    const { response, json } = await send(body, badCase.headers ?? {}, auth);

    expect(response.status).toBe(badCase.status);
    expect(json.error.code).toBe(badCase.code);
    expect(json.error.field).toBe(badCase.field);
    if (typeof badCase.message === "string") {
      expect(json.error.message).toBe(badCase.message);
    } else {
      expect(json.error.message).toMatch(badCase.message);
    }
    expect(json.error.requestId).toBe(response.headers.get("x-request-id"));
    expect(await counts()).toEqual(before);
  });

  it("responds 401 with a Bearer challenge", async () => {
    const { response } = await send(validBatch(), {}, null);

    expect(response.headers.get("www-authenticate")).toBe(
      'Bearer realm="vigil"',
    );
  });

  it("names the invalid token in the challenge", async () => {
    const { response } = await send(validBatch(), {}, "vgl_" + "B".repeat(43));

    expect(response.headers.get("www-authenticate")).toBe(
      'Bearer realm="vigil", error="invalid_token", ' +
        'error_description="invalid token"',
    );
  });
});
