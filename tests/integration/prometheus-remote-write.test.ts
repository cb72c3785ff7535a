import http from "node:http";
import type { AddressInfo } from "node:net";

import { pushTimeseries } from "prometheus-remote-write";
import { compressSync } from "snappy";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST } from "@/app/api/v1/prometheus/write/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { WriteRequest } from "@/lib/ingest/prometheus/remote-write-schema";
import { truncateAll } from "@/tests/support/database";

// The remote write route against a real PostgreSQL: through its exported
// POST with Request objects, and through a node:http server on 127.0.0.1
// that a real remote write client (the prometheus-remote-write package,
// which compresses with snappyjs) sends to.

// Small limits keep the oversized requests small. getConfig() reads them
// on first use, which happens inside the first request.
const MAX_BODY_BYTES = 65_536;
const MAX_POINTS = 1000;
const MAX_NEW_SERIES = 20;
vi.stubEnv("VIGIL_INGEST_MAX_BODY_BYTES", String(MAX_BODY_BYTES));
vi.stubEnv("VIGIL_INGEST_MAX_POINTS", String(MAX_POINTS));
vi.stubEnv("VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR", String(MAX_NEW_SERIES));

const URL = "http://127.0.0.1/api/v1/prometheus/write";
/** Ports this test may listen on. */
const PORTS = { first: 3200, last: 3219 };
const MINUTE = 60_000;
/** A minute-aligned time ten minutes ago. */
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

let token: string;

type Label = { name: string; value: string };
type TimeSeries = {
  labels: Label[];
  samples?: { value: number; timestamp: number }[];
  histograms?: { countInt: number; sum: number; timestamp: number }[];
};

function labels(pairs: Record<string, string>): Label[] {
  return Object.entries(pairs).map(([name, value]) => ({ name, value }));
}

function body(timeseries: TimeSeries[]): Uint8Array<ArrayBuffer> {
  const bytes = WriteRequest.encode(
    WriteRequest.fromObject({ timeseries }),
  ).finish();
  return Uint8Array.from(compressSync(Buffer.from(bytes)));
}

const REMOTE_WRITE_HEADERS = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
  "user-agent": "Prometheus/3.5.0",
};

async function send(
  payload: Uint8Array,
  options: { headers?: Record<string, string>; auth?: string; query?: string } = {},
) {
  const response = await POST(
    new Request(URL + (options.query ?? ""), {
      method: "POST",
      headers: {
        ...REMOTE_WRITE_HEADERS,
        authorization: `Bearer ${options.auth ?? token}`,
        ...options.headers,
      },
      body: Uint8Array.from(payload),
    }),
  );
  const text = await response.text();
  return {
    response,
    json: text === "" ? null : (JSON.parse(text) as Record<string, any>),
  };
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

function twoSeries(): TimeSeries[] {
  return [
    {
      labels: labels({
        __name__: "http_requests_total",
        instance: "host-a.example:9100",
        job: "Checkout API",
        method: "POST",
      }),
      samples: [
        { value: 10, timestamp: base },
        { value: 12.5, timestamp: base + MINUTE },
      ],
    },
    {
      labels: labels({
        __name__: "node_load1",
        instance: "host-a.example:9100",
        job: "node",
      }),
      samples: [{ value: 0.75, timestamp: base }],
    },
  ];
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "prometheus", scope: "ingest" }));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeDb();
});

describe("POST /api/v1/prometheus/write", () => {
  it("stores series with status 204", async () => {
    const { response, json } = await send(body(twoSeries()), {
      headers: { "x-request-id": "rw-1" },
    });

    expect(response.status).toBe(204);
    expect(json).toBeNull();
    expect(response.headers.get("x-request-id")).toBe("rw-1");
    expect(response.headers.get("x-vigil-accepted-points")).toBe("3");
    expect(response.headers.get("x-vigil-duplicate-points")).toBe("0");
    expect(response.headers.get("x-vigil-series")).toBe("2");

    const services = await getPool().query(
      "SELECT slug FROM service ORDER BY slug",
    );
    expect(services.rows).toEqual([{ slug: "checkout-api" }, { slug: "node" }]);

    const points = await getPool().query(
      `SELECT sv.slug, s.name, s.labels, p.ts, p.value
         FROM data_point p
         JOIN metric_series s ON s.id = p.series_id
         JOIN service sv ON sv.id = s.service_id
        ORDER BY s.name, p.ts`,
    );
    expect(points.rows).toEqual([
      {
        slug: "checkout-api",
        name: "http_requests_total",
        labels: {
          instance: "host-a.example:9100",
          job: "Checkout API",
          method: "POST",
        },
        ts: new Date(base),
        value: 10,
      },
      {
        slug: "checkout-api",
        name: "http_requests_total",
        labels: {
          instance: "host-a.example:9100",
          job: "Checkout API",
          method: "POST",
        },
        ts: new Date(base + MINUTE),
        value: 12.5,
      },
      {
        slug: "node",
        name: "node_load1",
        labels: { instance: "host-a.example:9100", job: "node" },
        ts: new Date(base),
        value: 0.75,
      },
    ]);
  });

  it("stores nothing twice on retry", async () => {
    await send(body(twoSeries()));
    const before = await counts();

    const { response } = await send(body(twoSeries()));

    expect(response.status).toBe(204);
    expect(response.headers.get("x-vigil-accepted-points")).toBe("0");
    expect(response.headers.get("x-vigil-duplicate-points")).toBe("3");
    expect(await counts()).toEqual(before);
  });

  it("counts stale markers, histograms and exemplars", async () => {
    const stale = new DataView(new ArrayBuffer(8));
    stale.setUint32(0, 0x7ff00000);
    stale.setUint32(4, 0x00000002);
    const payload = body([
      {
        labels: labels({ __name__: "up", job: "node" }),
        samples: [
          { value: 1, timestamp: base },
          { value: stale.getFloat64(0), timestamp: base + MINUTE },
        ],
      },
      {
        labels: labels({ __name__: "request_duration_seconds", job: "node" }),
        histograms: [{ countInt: 4, sum: 1.5, timestamp: base }],
      },
    ]);

    const { response } = await send(payload);

    expect(response.status).toBe(204);
    expect(response.headers.get("x-vigil-accepted-points")).toBe("1");
    expect(response.headers.get("x-vigil-skipped-non-finite")).toBe("1");
    expect(response.headers.get("x-vigil-skipped-histograms")).toBe("1");
    expect(response.headers.get("x-vigil-skipped-exemplars")).toBe("0");
    expect(await counts()).toEqual({ services: "1", series: "1", points: "1" });
  });

  it("stores nothing for a metadata-only request", async () => {
    const bytes = WriteRequest.encode(
      WriteRequest.fromObject({
        metadata: [{ type: 1, metricFamilyName: "up", help: "Up." }],
      }),
    ).finish();

    const { response } = await send(compressSync(Buffer.from(bytes)));

    expect(response.status).toBe(204);
    expect(response.headers.get("x-vigil-accepted-points")).toBe("0");
    expect(await counts()).toEqual(EMPTY);
  });

  it("puts every series in the ?service= service", async () => {
    const { response } = await send(body(twoSeries()), {
      query: "?service=shop",
    });

    expect(response.status).toBe(204);
    const { rows } = await getPool().query(
      `SELECT DISTINCT sv.slug FROM metric_series s
         JOIN service sv ON sv.id = s.service_id`,
    );
    expect(rows).toEqual([{ slug: "shop" }]);
  });

  it("puts every series in a bound token's service", async () => {
    await send(body(twoSeries()), { query: "?service=shop" });
    const { rows } = await getPool().query(
      "SELECT id FROM service WHERE slug = 'shop'",
    );
    const bound = await createApiToken({
      name: "bound",
      scope: "ingest",
      serviceId: rows[0].id,
    });
    const later = twoSeries().map((series) => ({
      ...series,
      samples: series.samples!.map((sample) => ({
        ...sample,
        timestamp: sample.timestamp + 5 * MINUTE,
      })),
    }));

    const { response } = await send(body(later), { auth: bound.token });

    expect(response.status).toBe(204);
    expect(response.headers.get("x-vigil-accepted-points")).toBe("3");
    expect(await counts()).toEqual({ services: "1", series: "2", points: "6" });
  });
});

describe("POST /api/v1/prometheus/write rejections", () => {
  it("rejects a missing token", async () => {
    const response = await POST(
      new Request(URL, {
        method: "POST",
        headers: REMOTE_WRITE_HEADERS,
        body: body(twoSeries()),
      }),
    );

    expect(response.status).toBe(401);
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a series without __name__", async () => {
    const series = twoSeries();
    series[1]!.labels = labels({ instance: "host-a", job: "node" });

    const { response, json } = await send(body(series));

    expect(response.status).toBe(400);
    expect(json!.error.field).toBe("timeseries[1].labels");
    expect(json!.error.message).toBe(
      "timeseries[1] has no __name__ label, so it has no metric name: " +
        'series {instance="host-a",job="node"}',
    );
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a body that is not snappy", async () => {
    const { response, json } = await send(
      new TextEncoder().encode("plain text, not snappy"),
    );

    expect(response.status).toBe(400);
    expect(json!.error.code).toBe("invalid_encoding");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects snappy that is not protobuf", async () => {
    const { response, json } = await send(
      compressSync(Buffer.from('{"timeseries": []}')),
    );

    expect(response.status).toBe(400);
    expect(json!.error.code).toBe("invalid_protobuf");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects remote write 2.0 with 415", async () => {
    const { response, json } = await send(body(twoSeries()), {
      headers: {
        "content-type":
          "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        "x-prometheus-remote-write-version": "2.0.0",
      },
    });

    expect(response.status).toBe(415);
    expect(json!.error.code).toBe("unsupported_media_type");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a body without Content-Encoding", async () => {
    const bytes = WriteRequest.encode(
      WriteRequest.fromObject({ timeseries: twoSeries() }),
    ).finish();

    const { response, json } = await send(bytes, {
      headers: { "content-encoding": "identity" },
    });

    expect(response.status).toBe(415);
    expect(json!.error.field).toBe("Content-Encoding");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a sample older than the age limit", async () => {
    const series = twoSeries();
    series[0]!.samples![1]!.timestamp = 0;

    const { response, json } = await send(body(series));

    expect(response.status).toBe(400);
    expect(json!.error.field).toBe("timeseries[0].samples[1].timestamp");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects more points than the limit with 413", async () => {
    const samples = Array.from({ length: MAX_POINTS + 1 }, (_, i) => ({
      value: i,
      timestamp: base - i * 1000,
    }));

    const { response, json } = await send(
      body([{ labels: labels({ __name__: "up", job: "node" }), samples }]),
    );

    expect(response.status).toBe(413);
    expect(json!.error.code).toBe("too_many_points");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects a body over the size limit with 413", async () => {
    const { response, json } = await send(new Uint8Array(MAX_BODY_BYTES + 1));

    expect(response.status).toBe(413);
    expect(json!.error.code).toBe("payload_too_large");
    expect(await counts()).toEqual(EMPTY);
  });

  it("rejects too many new series with 429", async () => {
    const series = Array.from({ length: MAX_NEW_SERIES + 1 }, (_, i) => ({
      labels: labels({ __name__: "up", job: "node", pod: `pod-${i}` }),
      samples: [{ value: 1, timestamp: base }],
    }));

    const { response, json } = await send(body(series));

    expect(response.status).toBe(429);
    expect(json!.error.code).toBe("too_many_new_series");
    expect(response.headers.get("retry-after")).toBe("3600");
    expect(await counts()).toEqual(EMPTY);
  });
});

/** Serves the route on 127.0.0.1 at the first free port of PORTS. */
async function startServer(): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const response = await POST(
      new Request(`http://127.0.0.1${incoming.url}`, {
        method: incoming.method,
        headers,
        body: Uint8Array.from(Buffer.concat(chunks)),
      }),
    );
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  });
  for (let port = PORTS.first; port <= PORTS.last; port += 1) {
    const listening = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (listening) {
      const { port: bound } = server.address() as AddressInfo;
      return { server, url: `http://127.0.0.1:${bound}/api/v1/prometheus/write` };
    }
  }
  throw new Error(`no free port in ${PORTS.first}-${PORTS.last}`);
}

describe("remote write from a real client", () => {
  it("stores what prometheus-remote-write sends", async () => {
    const { server, url } = await startServer();
    try {
      const options = {
        url,
        fetch: globalThis.fetch as never,
        // The client sets Content-Type but not Content-Encoding, which the
        // protocol requires, so it is added here as Prometheus sends it.
        headers: {
          "Content-Encoding": "snappy",
          Authorization: `Bearer ${token}`,
        },
        labels: { job: "queue-worker", instance: "host-b.example:9100" },
      };
      const series = [
        {
          labels: { __name__: "queue_depth", queue: "emails" },
          samples: [
            { value: 150, timestamp: base },
            { value: 90, timestamp: base + MINUTE },
          ],
        },
        {
          labels: { __name__: "queue_oldest_seconds", queue: "emails" },
          samples: [{ value: 42.5, timestamp: base }],
        },
      ];

      const first = await pushTimeseries(series, options);
      const retry = await pushTimeseries(series, options);

      expect(first.status).toBe(204);
      expect(retry.status).toBe(204);
      const { rows } = await getPool().query(
        `SELECT sv.slug, s.name, s.labels, p.ts, p.value
           FROM data_point p
           JOIN metric_series s ON s.id = p.series_id
           JOIN service sv ON sv.id = s.service_id
          ORDER BY s.name, p.ts`,
      );
      const seriesLabels = {
        instance: "host-b.example:9100",
        job: "queue-worker",
        queue: "emails",
      };
      expect(rows).toEqual([
        {
          slug: "queue-worker",
          name: "queue_depth",
          labels: seriesLabels,
          ts: new Date(base),
          value: 150,
        },
        {
          slug: "queue-worker",
          name: "queue_depth",
          labels: seriesLabels,
          ts: new Date(base + MINUTE),
          value: 90,
        },
        {
          slug: "queue-worker",
          name: "queue_oldest_seconds",
          labels: seriesLabels,
          ts: new Date(base),
          value: 42.5,
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
