import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { POST, PUT } from "@/app/api/v1/prometheus/push/[...grouping]/route";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// Pushes through the exported route handlers into a real database and reads
// back what was stored.

const ORIGIN = "http://127.0.0.1";
const PREFIX = "/api/v1/prometheus/push";
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/exposition");
const MINUTE = 60_000;
/** Start of the minute ten minutes ago, within the accepted timestamp range. */
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

let token: string;

type PushOptions = {
  method?: "POST" | "PUT";
  contentType?: string | null;
  headers?: Record<string, string>;
  auth?: string;
};

async function push(
  pathAfterPrefix: string,
  body: BodyInit,
  options: PushOptions = {},
) {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.auth ?? token}`,
    ...options.headers,
  };
  const contentType =
    options.contentType === undefined ? "text/plain; version=0.0.4" : options.contentType;
  if (contentType !== null) headers["content-type"] = contentType;
  const request = new Request(`${ORIGIN}${PREFIX}${pathAfterPrefix}`, {
    method: options.method ?? "POST",
    headers,
    body,
  });
  const handler = options.method === "PUT" ? PUT : POST;
  const response = await handler(request);
  return { response, json: (await response.json()) as Record<string, any> };
}

async function counts() {
  const { rows } = await getPool().query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM service) AS services,
            (SELECT count(*) FROM metric_series) AS series,
            (SELECT count(*) FROM data_point) AS points`,
  );
  return rows[0];
}

type StoredPoint = {
  service: string;
  name: string;
  labels: Record<string, string>;
  ts: Date;
  value: number;
};

async function storedPoints(): Promise<StoredPoint[]> {
  const { rows } = await getPool().query<StoredPoint>(
    `SELECT sv.slug AS service, s.name, s.labels, p.ts, p.value
       FROM data_point p
       JOIN metric_series s ON s.id = p.series_id
       JOIN service sv ON sv.id = s.service_id
      ORDER BY sv.slug, s.name, s.labels_key, p.ts`,
  );
  return rows;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  ({ token } = await createApiToken({ name: "test push", scope: "ingest" }));
});

afterAll(async () => {
  await closeDb();
});

describe("POST /api/v1/prometheus/push/job/{job}", () => {
  it("stores samples with grouping labels", async () => {
    const body = [
      "# HELP backup_bytes Bytes written by the last backup.",
      "# TYPE backup_bytes gauge",
      'backup_bytes{disk="sda"} 1024',
      `backup_duration_seconds 12.5 ${base}`,
      "",
    ].join("\n");
    const before = Date.now();
    const { response, json } = await push("/job/nightly-backup/instance/host-a", body, {
      headers: { "x-request-id": "push-1" },
    });
    const after = Date.now();

    expect(response.status).toBe(200);
    expect(json).toEqual({
      accepted: { series: 2, points: 2 },
      duplicates: 0,
      skippedNonFinite: 0,
      services: ["nightly-backup"],
      requestId: "push-1",
    });

    const points = await storedPoints();
    expect(points).toHaveLength(2);
    expect(points[0]).toMatchObject({
      service: "nightly-backup",
      name: "backup_bytes",
      labels: { disk: "sda", instance: "host-a", job: "nightly-backup" },
      value: 1024,
    });
    // A sample without a timestamp gets the receive time.
    expect(points[0]!.ts.getTime()).toBeGreaterThanOrEqual(before);
    expect(points[0]!.ts.getTime()).toBeLessThanOrEqual(after);
    expect(points[1]).toEqual({
      service: "nightly-backup",
      name: "backup_duration_seconds",
      labels: { instance: "host-a", job: "nightly-backup" },
      ts: new Date(base),
      value: 12.5,
    });
  });

  it("stamps a whole push with one receive time", async () => {
    await push("/job/batch", "a 1\nb 2\nc 3\n");
    const stamps = new Set((await storedPoints()).map((point) => point.ts.getTime()));
    expect(stamps.size).toBe(1);
  });

  it("lets URL labels replace body labels", async () => {
    const body = 'm{job="other",instance="body",zone="eu"} 1\n';
    await push("/job/batch/instance/url", body);
    const [point] = await storedPoints();
    expect(point?.labels).toEqual({ job: "batch", instance: "url", zone: "eu" });
  });

  it("decodes @base64 values and percent-encoding", async () => {
    // L3Zhci90bXA is "/var/tmp"; zqDPgc6_zrzOt864zrXPjc-C is "Προμηθεύς".
    const url = "/job@base64/YmFja3Vw/path@base64/L3Zhci90bXA/name@base64/zqDPgc6_zrzOt864zrXPjc-C/team/s%C3%BCd";
    const { response } = await push(url, "m 1\n");
    expect(response.status).toBe(200);
    const [point] = await storedPoints();
    expect(point?.labels).toEqual({
      job: "backup",
      path: "/var/tmp",
      name: "Προμηθεύς",
      team: "süd",
    });
  });

  it("drops empty label values, from the URL too", async () => {
    const body = 'm{zone="",instance="body"} 1\n';
    await push("/job/batch/instance@base64/=", body);
    const [point] = await storedPoints();
    expect(point?.labels).toEqual({ job: "batch" });
  });

  it("accepts PUT the same way", async () => {
    const { response, json } = await push("/job/batch", `m 1 ${base}\n`, { method: "PUT" });
    expect(response.status).toBe(200);
    expect(json.accepted).toEqual({ series: 1, points: 1 });
  });

  it("accepts curl's default form content type as text", async () => {
    const { response } = await push("/job/batch", "m 1\n", {
      contentType: "application/x-www-form-urlencoded",
    });
    expect(response.status).toBe(200);
  });

  it("accepts a gzip body", async () => {
    const { response, json } = await push("/job/batch", gzipSync(`m 7 ${base}\n`), {
      headers: { "content-encoding": "gzip" },
    });
    expect(response.status).toBe(200);
    expect(json.accepted.points).toBe(1);
  });

  it("accepts an empty body and stores nothing", async () => {
    const { response, json } = await push("/job/batch", "");
    expect(response.status).toBe(200);
    expect(json.accepted).toEqual({ series: 0, points: 0 });
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });
});

describe("services of pushed series", () => {
  it("takes the service label before the job", async () => {
    await push("/job/batch", 'm{service="Checkout API"} 1\nn 2\n');
    const services = (await storedPoints()).map((point) => [point.name, point.service]);
    expect(services).toEqual([
      ["n", "batch"],
      ["m", "checkout-api"],
    ]);
  });

  it("lets ?service= win", async () => {
    await push("/job/batch?service=billing", 'm{service="checkout"} 1\n');
    const [point] = await storedPoints();
    expect(point?.service).toBe("billing");
  });

  it("uses the service a token is bound to", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      "INSERT INTO service (slug, name) VALUES ('payments', 'Payments') RETURNING id",
    );
    const bound = await createApiToken({
      name: "bound",
      scope: "ingest",
      serviceId: rows[0]!.id,
    });
    const { response } = await push("/job/batch", 'm{service="checkout"} 1\n', {
      auth: bound.token,
    });
    expect(response.status).toBe(200);
    const [point] = await storedPoints();
    expect(point?.service).toBe("payments");
  });
});

describe("fixtures pushed whole", () => {
  it("stores the OpenMetrics fixture", async () => {
    const text = readFileSync(
      path.join(FIXTURES, "openmetrics-1.0-exemplars-created-negative-buckets.om.txt"),
      "utf8",
    );
    const { response, json } = await push("/job/rpc-demo", text, {
      contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8",
    });

    expect(response.status).toBe(200);
    // 53 sample lines, each its own series; none is NaN or Inf.
    expect(json.accepted).toEqual({ series: 53, points: 53 });
    expect(json.skippedNonFinite).toBe(0);
    // Samples with a service label go to that service, the rest to the job.
    expect(json.services).toEqual(["exponential", "normal", "rpc-demo", "uniform"]);

    const points = await storedPoints();
    const buildInfo = points.find((point) => point.name === "go_build_info");
    // checksum, path and version are empty in the body, so they are dropped.
    expect(buildInfo?.labels).toEqual({ job: "rpc-demo" });
    expect(buildInfo?.value).toBe(1);

    const negativeBucket = points.find(
      (point) => point.labels.le === "-0.0002899999999999998",
    );
    expect(negativeBucket?.name).toBe("rpc_durations_histogram_seconds_bucket");
    expect(negativeBucket?.value).toBe(3);

    const created = points.find(
      (point) => point.name === "rpc_requests_created" && point.service === "normal",
    );
    expect(created?.value).toBe(1726839813.016717);
    expect(created?.labels).toEqual({ job: "rpc-demo", service: "normal" });

    const perService = new Map<string, number>();
    for (const point of points) {
      perService.set(point.service, (perService.get(point.service) ?? 0) + 1);
    }
    // exponential, normal and uniform each have 3 quantiles, _sum, _count,
    // _created, rpc_requests_total and rpc_requests_created: 8 lines.
    expect(Object.fromEntries(perService)).toEqual({
      exponential: 8,
      normal: 8,
      uniform: 8,
      "rpc-demo": 29,
    });
  });

  it("rejects the 0.0.4 fixture for its 2014 timestamps", async () => {
    const text = readFileSync(
      path.join(FIXTURES, "prom-text-0.0.4-docs-canonical-escaping-inf-histogram-summary.prom"),
      "utf8",
    );
    const { response, json } = await push("/job/docs", text);
    expect(response.status).toBe(400);
    expect(json.error.field).toBe("line 3 timestamp");
    expect(json.error.message).toMatch(/^line 3 timestamp must not be older than 365 days/);
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });

  it("stores the 0.0.4 fixture without its timestamps", async () => {
    const text = readFileSync(
      path.join(FIXTURES, "prom-text-0.0.4-docs-canonical-escaping-inf-histogram-summary.prom"),
      "utf8",
    ).replace(/ (1395066363000|-3982045)$/gm, "");
    const { response, json } = await push("/job/docs", text);

    expect(response.status).toBe(200);
    // 20 sample lines; something_weird is +Inf and is not stored.
    expect(json.accepted.points).toBe(19);
    expect(json.skippedNonFinite).toBe(1);

    const points = await storedPoints();
    const msdos = points.find((point) => point.name === "msdos_file_access_time_seconds");
    expect(msdos?.labels).toEqual({
      job: "docs",
      path: "C:\\DIR\\FILE.TXT",
      error: 'Cannot find file:\n"FILE.TXT"',
    });
    expect(msdos?.value).toBe(1458255915);
    const inf = points.find((point) => point.labels.le === "+Inf");
    expect(inf?.value).toBe(144320);
    const quantile = points.find((point) => point.labels.quantile === "0.99");
    expect(quantile?.value).toBe(76656);
    const sum = points.find(
      (point) => point.name === "telemetry_requests_metrics_latency_microseconds_sum",
    );
    expect(sum?.value).toBe(17560473);
  });
});

describe("retries", () => {
  it("stores nothing twice on retry", async () => {
    const body = `a{x="1"} 1 ${base}\na{x="2"} 2 ${base}\nb 3 ${base + MINUTE}\n`;
    await push("/job/batch", body);
    const before = await counts();

    const { response, json } = await push("/job/batch", body);

    expect(response.status).toBe(200);
    expect(json.accepted).toEqual({ series: 3, points: 0 });
    expect(json.duplicates).toBe(3);
    expect(await counts()).toEqual(before);
  });

  it("stores nothing twice for OpenMetrics seconds", async () => {
    const seconds = (base + 250) / 1000;
    const body = `# TYPE m gauge\nm 1 ${seconds}\n# EOF\n`;
    const contentType = "application/openmetrics-text";
    await push("/job/batch", body, { contentType });
    const { json } = await push("/job/batch", body, { contentType });
    expect(json.duplicates).toBe(1);
    const points = await storedPoints();
    expect(points.map((point) => point.ts.getTime())).toEqual([base + 250]);
  });
});

describe("rejected pushes store nothing", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "a wrong escape",
      '/job/batch',
      'good 1\nalso_good{a="1"} 2\nbad{path="C:\\DIR"} 3\nlater 4\n',
      /^line 3: invalid escape \\D in the value of label path in sample bad/,
    ],
    [
      "a missing value",
      "/job/batch",
      'good 1\nbad{a="1"}\n',
      /^line 2: sample bad is missing its value$/,
    ],
    [
      "a duplicate label name",
      "/job/batch",
      'good 1\nbad{a="1",a="2"} 3\n',
      /^line 2: duplicate label name a in sample bad$/,
    ],
    [
      "a bad metric name",
      "/job/batch",
      "good 1\n0bad 3\n",
      /^line 2: invalid metric name "0bad"/,
    ],
    [
      "a repeated series and timestamp",
      "/job/batch",
      `m{x="1"} 1 ${base}\nm{x="1"} 2 ${base}\n`,
      /^line 2: m\{x="1",job="batch"\} has the same series and timestamp as line 1/,
    ],
    [
      "series that URL labels make equal",
      "/job/batch",
      `m{job="a"} 1 ${base}\nm{job="b"} 2 ${base}\n`,
      /labels named in the push URL replace those of the body\)$/,
    ],
    [
      "a __proto__ label",
      "/job/batch",
      'm{__proto__="x"} 1\n',
      /^line 1\.labels has an invalid label name "__proto__"/,
    ],
    [
      "a reserved label name",
      "/job/batch",
      'm{__tenant="x"} 1\n',
      /^line 1\.labels has an invalid label name "__tenant"/,
    ],
  ];

  for (const [name, url, body, message] of cases) {
    it(`rejects ${name}`, async () => {
      const { response, json } = await push(url, body);
      expect(response.status).toBe(400);
      expect(json.error.message).toMatch(message);
      expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
    });
  }

  it("names the line in the error field", async () => {
    const { json } = await push("/job/batch", "good 1\nbad{a=1} 2\n");
    expect(json.error.code).toBe("invalid_exposition");
    expect(json.error.field).toBe("line 2");
  });

  it("rejects OpenMetrics without # EOF", async () => {
    const { response, json } = await push("/job/batch", "# TYPE m gauge\nm 1\n", {
      contentType: "application/openmetrics-text; version=1.0.0",
    });
    expect(response.status).toBe(400);
    expect(json.error.message).toBe(
      "line 3: OpenMetrics text must end with a # EOF line; the body may be truncated",
    );
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });

  it("rejects protobuf with 415", async () => {
    const { response, json } = await push("/job/batch", "\u0000\u0001", {
      contentType:
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
    });
    expect(response.status).toBe(415);
    expect(json.error.code).toBe("unsupported_media_type");
    expect(json.error.message).toMatch(
      /^the protobuf exposition format \(application\/vnd.google.protobuf\) is not supported; send the text format/,
    );
  });

  it("rejects an unknown text/plain version", async () => {
    const { response, json } = await push("/job/batch", "m 1\n", {
      contentType: "text/plain; version=2.0.0",
    });
    expect(response.status).toBe(415);
    expect(json.error.message).toMatch(/^text\/plain version 2.0.0 is not supported/);
  });

  it("rejects a path without job", async () => {
    const { response, json } = await push("/instance/a", "m 1\n");
    expect(response.status).toBe(400);
    expect(json.error.code).toBe("invalid_path");
    expect(json.error.message).toMatch(/^the push URL must continue with job\/<job>/);
  });

  it("rejects a grouping label without value", async () => {
    const { response, json } = await push("/job/batch/instance", "m 1\n");
    expect(response.status).toBe(400);
    expect(json.error.message).toMatch(/^grouping label "instance" in the push URL has no value/);
  });

  it("rejects an invalid grouping label name", async () => {
    const { response, json } = await push("/job/batch/my-label/x", "m 1\n");
    expect(response.status).toBe(400);
    expect(json.error.message).toMatch(/^invalid grouping label name "my-label"/);
  });

  it("rejects an empty job", async () => {
    const { response, json } = await push("/job@base64/=", "m 1\n");
    expect(response.status).toBe(400);
    expect(json.error.message).toBe("the job in the push URL must not be empty");
  });

  it("rejects a repeated grouping label", async () => {
    const { response, json } = await push("/job/batch/zone/a/zone/b", "m 1\n");
    expect(response.status).toBe(400);
    expect(json.error.message).toBe("grouping label zone appears twice in the push URL");
  });

  it("rejects a push without a token", async () => {
    const request = new Request(`${ORIGIN}${PREFIX}/job/batch`, {
      method: "POST",
      body: "m 1\n",
    });
    const response = await POST(request);
    expect(response.status).toBe(401);
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });
});
