import type pg from "pg";

import { encodeRemoteWrite } from "@/scripts/bench/remote-write-encode";

// A stream of metric batches for the crash tests. Every batch has its own
// points, each a distinct (service, metric, stream label, timestamp) with a
// value that no other point has, so that a stored row names the batch it
// came from. Batches alternate between POST /api/v1/metrics (JSON) and
// POST /api/v1/prometheus/write (remote write 1.0). The sender keeps several
// requests in flight and records the outcome of every attempt.

export type StreamFormat = "json" | "remote-write";

export const STREAM_SERIES_PER_BATCH = 4;
export const STREAM_POINTS_PER_SERIES = 250;
export const STREAM_POINTS_PER_BATCH =
  STREAM_SERIES_PER_BATCH * STREAM_POINTS_PER_SERIES;

/** Service slug and metric name of each format's series. */
export const STREAM_SERIES = {
  json: { service: "crash-json", name: "crash_json_value" },
  "remote-write": {
    service: "crash-remote-write",
    name: "crash_remote_write_value",
  },
} as const satisfies Record<StreamFormat, { service: string; name: string }>;

export type StreamPoint = {
  batch: number;
  service: string;
  name: string;
  /** Value of the series' `stream` label. */
  stream: string;
  ts: number;
  value: number;
};

export type StreamBatch = {
  index: number;
  format: StreamFormat;
  points: StreamPoint[];
  path: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer>;
};

/** Identity of a stored point: service, metric name, stream label and timestamp in ms. */
export function pointKey(point: {
  service: string;
  name: string;
  stream: string;
  ts: number;
}): string {
  return `${point.service}|${point.name}|${point.stream}|${point.ts}`;
}

/** Groups points by their stream label, in order of first appearance. */
function groupByStream(points: StreamPoint[]): Map<string, StreamPoint[]> {
  const groups = new Map<string, StreamPoint[]>();
  for (const point of points) {
    const group = groups.get(point.stream);
    if (group) group.push(point);
    else groups.set(point.stream, [point]);
  }
  return groups;
}

function jsonBody(points: StreamPoint[]): Uint8Array<ArrayBuffer> {
  const byStream = groupByStream(points);
  const series = [...byStream].map(([stream, streamPoints], position) => ({
    name: STREAM_SERIES.json.name,
    labels: { stream },
    // Both timestamp forms of the API: epoch ms and RFC 3339.
    points: streamPoints.map((point) => [
      position % 2 === 0 ? point.ts : new Date(point.ts).toISOString(),
      point.value,
    ]),
  }));
  const body = { service: STREAM_SERIES.json.service, series };
  return new TextEncoder().encode(JSON.stringify(body));
}

function remoteWriteBody(points: StreamPoint[]): Uint8Array<ArrayBuffer> {
  const byStream = groupByStream(points);
  // As Prometheus sends them: the service comes from the job label.
  const series = [...byStream].map(([stream, streamPoints]) => ({
    labels: {
      __name__: STREAM_SERIES["remote-write"].name,
      job: STREAM_SERIES["remote-write"].service,
      instance: "127.0.0.1:9100",
      stream,
    },
    samples: streamPoints.map((point) => ({
      value: point.value,
      timestamp: point.ts,
    })),
  }));
  return new Uint8Array(encodeRemoteWrite(series));
}

/**
 * Builds `count` batches. Batch i is JSON when i is even and remote write
 * when it is odd. The points of a format are one second apart from
 * `startMs` on, in batch order. Point number n of the whole stream has the
 * value n + 1/3. That value has no exact binary fraction, so the checks
 * show that values are stored bit for bit.
 */
export function planStream(count: number, startMs: number): StreamBatch[] {
  const batches: StreamBatch[] = [];
  for (let index = 0; index < count; index += 1) {
    const format: StreamFormat = index % 2 === 0 ? "json" : "remote-write";
    const { service, name } = STREAM_SERIES[format];
    const ordinal = Math.floor(index / 2);
    const points: StreamPoint[] = [];
    for (let s = 0; s < STREAM_SERIES_PER_BATCH; s += 1) {
      for (let i = 0; i < STREAM_POINTS_PER_SERIES; i += 1) {
        const number =
          index * STREAM_POINTS_PER_BATCH + s * STREAM_POINTS_PER_SERIES + i;
        points.push({
          batch: index,
          service,
          name,
          stream: `s${s}`,
          ts: startMs + (ordinal * STREAM_POINTS_PER_SERIES + i) * 1000,
          value: number + 1 / 3,
        });
      }
    }
    batches.push(
      format === "json"
        ? {
            index,
            format,
            points,
            path: "/api/v1/metrics",
            headers: { "content-type": "application/json" },
            body: jsonBody(points),
          }
        : {
            index,
            format,
            points,
            path: "/api/v1/prometheus/write",
            headers: {
              "content-type": "application/x-protobuf",
              "content-encoding": "snappy",
              "x-prometheus-remote-write-version": "0.1.0",
            },
            body: remoteWriteBody(points),
          },
    );
  }
  return batches;
}

export type AttemptOutcome =
  /** A 2xx status arrived, so the server had committed the batch. */
  | "acknowledged"
  /** A response with another status. */
  | "http-error"
  /** No status arrived: the connection was refused, reset or closed. */
  | "connection-error";

export type Attempt = {
  batch: number;
  phase: string;
  outcome: AttemptOutcome;
  status?: number;
  /** Points the server reported as stored by this request. */
  accepted?: number;
  /** Points the server reported as stored before. */
  duplicates?: number;
  /** Error code (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET...) or response body. */
  error?: string;
};

function errorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })
    .cause;
  return cause?.code ?? cause?.message ?? String(error);
}

/**
 * Sends stream batches to one server with a bearer token, and keeps every
 * attempt. `inFlight` contains the batches whose request was sent and has no
 * outcome yet.
 */
export class StreamSender {
  readonly attempts: Attempt[] = [];
  readonly inFlight = new Set<number>();
  private halted = false;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly batches: StreamBatch[],
  ) {}

  /** Stops the current `send` from starting further requests; those in flight go on. */
  halt(): void {
    this.halted = true;
  }

  /** Returns true when some attempt at `batch` was acknowledged. */
  isAcknowledged(batch: number): boolean {
    return this.attempts.some(
      (attempt) => attempt.batch === batch && attempt.outcome === "acknowledged",
    );
  }

  /** Sends one batch and records the attempt. */
  async sendOne(batch: number, phase: string): Promise<Attempt> {
    const planned = this.batches[batch]!;
    this.inFlight.add(batch);
    let attempt: Attempt;
    try {
      const response = await fetch(`${this.baseUrl}${planned.path}`, {
        method: "POST",
        headers: { ...planned.headers, authorization: `Bearer ${this.token}` },
        body: planned.body,
        signal: AbortSignal.timeout(30_000),
      });
      attempt = await this.readResponse(batch, phase, planned, response);
    } catch (error) {
      attempt = { batch, phase, outcome: "connection-error", error: errorCode(error) };
    }
    this.inFlight.delete(batch);
    this.attempts.push(attempt);
    return attempt;
  }

  private async readResponse(
    batch: number,
    phase: string,
    planned: StreamBatch,
    response: Response,
  ): Promise<Attempt> {
    const status = response.status;
    let text: string | undefined;
    try {
      text = await response.text();
    } catch (error) {
      // The status line arrived but the body did not. The server sends a
      // response only after its transaction, so a 2xx still acknowledges.
      if (!response.ok) {
        return { batch, phase, outcome: "http-error", status, error: errorCode(error) };
      }
    }
    if (!response.ok) {
      return { batch, phase, outcome: "http-error", status, error: text };
    }
    if (planned.format === "remote-write") {
      return {
        batch,
        phase,
        outcome: "acknowledged",
        status,
        accepted: Number(response.headers.get("x-vigil-accepted-points")),
        duplicates: Number(response.headers.get("x-vigil-duplicate-points")),
      };
    }
    const body =
      text === undefined
        ? undefined
        : (JSON.parse(text) as {
            accepted: { points: number };
            duplicates: number;
          });
    return {
      batch,
      phase,
      outcome: "acknowledged",
      status,
      accepted: body?.accepted.points,
      duplicates: body?.duplicates,
    };
  }

  /**
   * Sends `order` in that order with `concurrency` requests in flight, until
   * every batch has one attempt or `halt` was called. A worker whose request
   * fails stops taking batches, as a Prometheus shard backs off.
   * `afterAttempt` runs right after each attempt is recorded, before its
   * worker takes the next batch.
   */
  async send(
    order: number[],
    phase: string,
    concurrency: number,
    afterAttempt: (attempt: Attempt) => void = () => {},
  ): Promise<void> {
    this.halted = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (!this.halted && next < order.length) {
        const batch = order[next]!;
        next += 1;
        const attempt = await this.sendOne(batch, phase);
        afterAttempt(attempt);
        if (attempt.outcome !== "acknowledged") return;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  }

  /** Returns the batches of `order` that no attempt has reached yet. */
  unsent(order: number[]): number[] {
    const tried = new Set(this.attempts.map((attempt) => attempt.batch));
    return order.filter((batch) => !tried.has(batch));
  }
}

export type StoredPoint = {
  service: string;
  name: string;
  stream: string;
  ts: number;
  value: number;
};

/** Reads every stored point of the database, with its service and series. */
export async function readStoredPoints(client: pg.Client): Promise<StoredPoint[]> {
  const { rows } = await client.query<{
    service: string;
    name: string;
    stream: string | null;
    ts_ms: string;
    value: number;
  }>(
    `SELECT sv.slug AS service, s.name, s.labels->>'stream' AS stream,
            (extract(epoch FROM p.ts) * 1000)::bigint AS ts_ms, p.value
       FROM data_point p
       JOIN metric_series s ON s.id = p.series_id
       JOIN service sv ON sv.id = s.service_id`,
  );
  return rows.map((row) => ({
    service: row.service,
    name: row.name,
    stream: row.stream ?? "",
    ts: Number(row.ts_ms),
    value: row.value,
  }));
}

export type StoredComparison = {
  /** Stored points of each batch that have the value the batch sent. */
  storedPerBatch: number[];
  /** Stored points that no batch contains, as "key = value". */
  unexpected: string[];
  /** Stored points whose value differs from the one sent, as "key: stored, sent". */
  wrongValue: string[];
  /** Keys stored more than once. */
  repeated: string[];
};

/** Matches stored points against the points of `batches`. */
export function compareStored(
  batches: StreamBatch[],
  stored: StoredPoint[],
): StoredComparison {
  const planned = new Map<string, StreamPoint>();
  for (const batch of batches) {
    for (const point of batch.points) planned.set(pointKey(point), point);
  }
  const comparison: StoredComparison = {
    storedPerBatch: batches.map(() => 0),
    unexpected: [],
    wrongValue: [],
    repeated: [],
  };
  const seen = new Set<string>();
  for (const point of stored) {
    const key = pointKey(point);
    if (seen.has(key)) comparison.repeated.push(key);
    seen.add(key);
    const sent = planned.get(key);
    if (sent === undefined) {
      comparison.unexpected.push(`${key} = ${point.value}`);
    } else if (sent.value !== point.value) {
      comparison.wrongValue.push(`${key}: stored ${point.value}, sent ${sent.value}`);
    } else {
      comparison.storedPerBatch[sent.batch]! += 1;
    }
  }
  return comparison;
}
