import http from "node:http";
import type { AddressInfo } from "node:net";

import { OTLPMetricExporter as JsonExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { AggregationTemporalityPreference } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
} from "@opentelemetry/sdk-metrics";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { POST } from "@/app/api/v1/otlp/v1/metrics/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// A real OpenTelemetry SDK (MeterProvider from @opentelemetry/sdk-metrics)
// exports through the real OTLP/HTTP exporters, JSON and protobuf, to the
// route served by node:http on 127.0.0.1. This checks the field numbers and
// JSON forms that the SDK actually sends, not only the ones in our schema.

/** Ports this test may listen on. */
const PORTS = { first: 3240, last: 3259 };
const PATH = "/api/v1/otlp/v1/metrics";

let server: http.Server;
let url: string;
let token: string;

/** Serves the route on 127.0.0.1 at the first free port of PORTS. */
async function startServer(): Promise<{ server: http.Server; url: string }> {
  const created = http.createServer(async (incoming, outgoing) => {
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
        body: Buffer.concat(chunks),
      }),
    );
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  });
  for (let port = PORTS.first; port <= PORTS.last; port += 1) {
    const listening = await new Promise<boolean>((resolve) => {
      created.once("error", () => resolve(false));
      created.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (listening) {
      const { port: bound } = created.address() as AddressInfo;
      return { server: created, url: `http://127.0.0.1:${bound}${PATH}` };
    }
  }
  throw new Error(`no free port in ${PORTS.first}-${PORTS.last}`);
}

/** What an exporter reports for one export; code 0 is success. */
type ExportResult = Parameters<Parameters<PushMetricExporter["export"]>[1]>[0];
const EXPORT_SUCCESS = 0;

/** Metric reader that collects only when the test calls exportOnce. */
class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A MeterProvider and a function that exports its metrics once. */
function meterProvider(serviceName: string, exporter: PushMetricExporter) {
  const reader = new ManualReader({
    aggregationTemporalitySelector: (type) =>
      exporter.selectAggregationTemporality!(type),
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    readers: [reader],
  });
  /** Collects and exports, and returns the exporter's result. */
  const exportOnce = async (): Promise<ExportResult> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return new Promise((resolve) => exporter.export(resourceMetrics, resolve));
  };
  return { provider, exportOnce };
}

/** Waits until the clock has moved on, so two exports differ in time. */
function nextMillisecond(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

async function values(service: string, name: string) {
  const { rows } = await getPool().query<{
    labels: Record<string, string>;
    value: number;
  }>(
    `SELECT m.labels, p.value
       FROM data_point p
       JOIN metric_series m ON m.id = p.series_id
       JOIN service s ON s.id = m.service_id
      WHERE s.slug = $1 AND m.name = $2
      ORDER BY m.labels_key, p.ts`,
    [service, name],
  );
  return rows;
}

beforeAll(async () => {
  ({ server, url } = await startServer());
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "otel sdk", scope: "ingest" }));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await closeDb();
});

const encodings = [
  { name: "JSON", Exporter: JsonExporter },
  { name: "protobuf", Exporter: ProtobufExporter },
];

describe.each(encodings)("OTel SDK exporting $name", ({ name, Exporter }) => {
  const service = `otel-sdk-${name.toLowerCase()}`;

  it("stores counters, gauges and histograms", async () => {
    const exporter = new Exporter({
      url,
      headers: { Authorization: `Bearer ${token}` },
    });
    const { provider, exportOnce } = meterProvider(service, exporter);
    const meter = provider.getMeter("vigil-test");
    const requests = meter.createCounter("http.requests");
    const queue = meter.createUpDownCounter("queue.size");
    const duration = meter.createHistogram("request.duration");
    meter
      .createObservableGauge("cpu.temperature")
      .addCallback((result) => result.observe(61.5, { core: "0" }));

    requests.add(3, { route: "/pay" });
    requests.add(2, { route: "/pay" });
    queue.add(5);
    queue.add(-2);
    duration.record(0.3);
    duration.record(7);
    expect(await exportOnce()).toEqual({ code: EXPORT_SUCCESS });

    await nextMillisecond();
    requests.add(4, { route: "/pay" });
    expect(await exportOnce()).toEqual({ code: EXPORT_SUCCESS });
    await provider.shutdown();

    // Cumulative by default: the counter's second export is the running total.
    expect(await values(service, "http_requests_total")).toEqual([
      { labels: { route: "/pay" }, value: 5 },
      { labels: { route: "/pay" }, value: 9 },
    ]);
    expect((await values(service, "queue_size"))[0]).toEqual({
      labels: {},
      value: 3,
    });
    expect((await values(service, "cpu_temperature"))[0]).toEqual({
      labels: { core: "0" },
      value: 61.5,
    });

    // The SDK's default bounds are 0, 5, 10, 25, ... 10000: 0.3 falls in
    // (0, 5] and 7 in (5, 10].
    const buckets = await getPool().query<{ le: string; value: number }>(
      `SELECT m.labels->>'le' AS le, p.value
         FROM data_point p JOIN metric_series m ON m.id = p.series_id
        WHERE m.name = 'request_duration_bucket'
          AND p.ts = (SELECT min(ts) FROM data_point
                       WHERE series_id = p.series_id)`,
    );
    const byBound = Object.fromEntries(
      buckets.rows.map((row) => [row.le, row.value]),
    );
    expect(buckets.rows).toHaveLength(16);
    expect(byBound).toMatchObject({
      "0": 0,
      "5": 1,
      "10": 2,
      "10000": 2,
      "+Inf": 2,
    });
    const sums = await values(service, "request_duration_sum");
    expect(sums[0]!.value).toBe(7.3);
    const counts = await values(service, "request_duration_count");
    expect(counts[0]!.value).toBe(2);
  });

  it("stores delta sums per interval", async () => {
    const exporter = new Exporter({
      url,
      headers: { Authorization: `Bearer ${token}` },
      temporalityPreference: AggregationTemporalityPreference.DELTA,
    });
    const { provider, exportOnce } = meterProvider(service, exporter);
    const jobs = provider.getMeter("vigil-test").createCounter("jobs.done");
    jobs.add(3);
    expect(await exportOnce()).toEqual({ code: EXPORT_SUCCESS });
    await nextMillisecond();
    jobs.add(4);
    expect(await exportOnce()).toEqual({ code: EXPORT_SUCCESS });
    await provider.shutdown();

    expect(await values(service, "jobs_done")).toEqual([
      { labels: {}, value: 3 },
      { labels: {}, value: 4 },
    ]);
    expect(await values(service, "jobs_done_total")).toEqual([]);
  });

  it("fails the export with a wrong token", async () => {
    const exporter = new Exporter({
      url,
      headers: { Authorization: "Bearer vigil_not_a_token" },
    });
    const { provider, exportOnce } = meterProvider(service, exporter);
    provider.getMeter("vigil-test").createCounter("c").add(1);
    const result = await exportOnce();
    await provider.shutdown();

    expect(result.code).not.toBe(EXPORT_SUCCESS);
    // OTLPExporterError carries the HTTP status as `code`.
    expect((result.error as { code?: number }).code).toBe(401);
    expect(await values(service, "c_total")).toEqual([]);
  });
});
