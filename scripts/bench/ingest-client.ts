import {
  buildFleet,
  fleetValues,
  jsonBodies,
  remoteWriteBodies,
  type FleetOptions,
} from "./fleet";

// The sender of the ingest benchmark, run as its own process so that building
// and sending requests does not share an event loop with the server. It builds
// every request body first, then sends them with a fixed number of requests
// in flight, and prints one JSON line with the timings.
//
// Usage: node --import tsx scripts/bench/ingest-client.ts '<json job>'

export type ClientJob = FleetOptions & {
  format: "remote-write" | "json";
  url: string;
  token: string;
  concurrency: number;
  /** Samples per remote write request, or points per series per JSON request. */
  batch: number;
};

export type ClientResult = {
  format: ClientJob["format"];
  requests: number;
  points: number;
  bytes: number;
  seconds: number;
  latenciesMs: { p50: number; p99: number; max: number };
  failures: string[];
};

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function run(job: ClientJob): Promise<ClientResult> {
  const fleet = buildFleet(job.series, job.services);
  const values = fleetValues(fleet, job.rounds);
  const { bodies: built, points } =
    job.format === "remote-write"
      ? remoteWriteBodies(fleet, values, job, job.batch)
      : jsonBodies(fleet, values, job, job.batch);
  // Copies typed for fetch, made before the clock starts.
  const bodies = built.map((body) => new Uint8Array(body));
  const headers: Record<string, string> =
    job.format === "remote-write"
      ? {
          "content-type": "application/x-protobuf",
          "content-encoding": "snappy",
          "x-prometheus-remote-write-version": "0.1.0",
        }
      : { "content-type": "application/json" };
  headers.authorization = `Bearer ${job.token}`;

  const latencies: number[] = [];
  const failures: string[] = [];
  let bytes = 0;
  let next = 0;
  const startedAt = performance.now();

  async function sender(): Promise<void> {
    for (;;) {
      const index = next;
      next += 1;
      if (index >= bodies.length) return;
      const body = bodies[index]!;
      bytes += body.byteLength;
      const sentAt = performance.now();
      const response = await fetch(job.url, {
        method: "POST",
        headers,
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sentAt);
      if (!response.ok && failures.length < 5) {
        failures.push(`request ${index}: HTTP ${response.status}`);
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, () => sender()));
  const seconds = (performance.now() - startedAt) / 1000;

  latencies.sort((a, b) => a - b);
  return {
    format: job.format,
    requests: bodies.length,
    points,
    bytes,
    seconds,
    latenciesMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
    },
    failures,
  };
}

const job = JSON.parse(process.argv[2] ?? "{}") as ClientJob;
run(job).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`ingest client failed: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
