import { encodeRemoteWrite } from "./remote-write-encode";

// The simulated fleet of the ingest benchmark: services, each with the same
// mix of series an exporter of a web service has (request counters by route,
// method and status, latency histogram buckets, CPU and memory per instance).
// Values follow a seeded random walk, so every run sends the same bytes.

export type FleetSeries = {
  service: string;
  name: string;
  labels: Record<string, string>;
};

export type FleetOptions = {
  series: number;
  services: number;
  rounds: number;
  /** Time of the first round, epoch milliseconds. */
  startMs: number;
  /** Gap between rounds, as between two scrapes. */
  stepMs: number;
};

const ROUTES = ["/", "/login", "/cart", "/pay", "/search", "/api/items", "/api/users", "/health"];
const METHODS = ["GET", "POST"];
const STATUSES = ["200", "201", "404", "500"];
const BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
const CPU_MODES = ["user", "system", "idle", "iowait"];

/** Lists every label set one service exports, in a fixed order. */
function serviceSeries(service: string): FleetSeries[] {
  const list: FleetSeries[] = [];
  for (const route of ROUTES) {
    for (const method of METHODS) {
      for (const status of STATUSES) {
        list.push({
          service,
          name: "http_requests_total",
          labels: { job: service, instance: "host-a:9100", route, method, status },
        });
      }
    }
  }
  for (const route of ROUTES) {
    for (const le of BUCKETS) {
      list.push({
        service,
        name: "http_request_duration_seconds_bucket",
        labels: { job: service, instance: "host-a:9100", route, le },
      });
    }
  }
  for (let instance = 0; instance < 8; instance += 1) {
    for (let cpu = 0; cpu < 4; cpu += 1) {
      for (const mode of CPU_MODES) {
        list.push({
          service,
          name: "node_cpu_seconds_total",
          labels: {
            job: service,
            instance: `host-${instance}:9100`,
            cpu: String(cpu),
            mode,
          },
        });
      }
    }
  }
  return list;
}

/** Returns `count` series spread evenly over `services` services. */
export function buildFleet(count: number, services: number): FleetSeries[] {
  const perService = Math.ceil(count / services);
  const fleet: FleetSeries[] = [];
  for (let index = 0; index < services && fleet.length < count; index += 1) {
    const service = `svc-${String(index + 1).padStart(2, "0")}`;
    const all = serviceSeries(service);
    if (all.length < perService) {
      throw new Error(
        `a fleet service has ${all.length} series, fewer than the ` +
          `${perService} per service this run needs; use more services`,
      );
    }
    fleet.push(...all.slice(0, Math.min(perService, count - fleet.length)));
  }
  return fleet;
}

/** Returns a seeded generator of numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Returns values[round][series]: counters grow, the others wander around a
 * level, all from one seed.
 */
export function fleetValues(fleet: FleetSeries[], rounds: number): Float64Array[] {
  const next = random(20261204);
  const current = fleet.map(() => 100 + next() * 900);
  const values: Float64Array[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const row = new Float64Array(fleet.length);
    for (let i = 0; i < fleet.length; i += 1) {
      const counter = fleet[i]!.name.endsWith("_total") || fleet[i]!.name.endsWith("_bucket");
      current[i] = counter
        ? current[i]! + Math.floor(next() * 20)
        : Math.max(0, current[i]! + (next() - 0.5) * 10);
      row[i] = current[i]!;
    }
    values.push(row);
  }
  return values;
}

/**
 * Builds remote write bodies as one Prometheus queue shard sends them:
 * each round is cut into requests of `samplesPerRequest` series with one
 * sample each, protobuf encoded and snappy compressed.
 */
export function remoteWriteBodies(
  fleet: FleetSeries[],
  values: Float64Array[],
  options: FleetOptions,
  samplesPerRequest: number,
): { bodies: Buffer[]; points: number } {
  const bodies: Buffer[] = [];
  let points = 0;
  for (let round = 0; round < values.length; round += 1) {
    const timestamp = options.startMs + round * options.stepMs;
    for (let from = 0; from < fleet.length; from += samplesPerRequest) {
      const slice = fleet.slice(from, from + samplesPerRequest);
      bodies.push(
        encodeRemoteWrite(
          slice.map((series, offset) => ({
            labels: { __name__: series.name, ...series.labels },
            samples: [{ value: values[round]![from + offset]!, timestamp }],
          })),
        ),
      );
      points += slice.length;
    }
  }
  return { bodies, points };
}

/**
 * Builds POST /api/v1/metrics bodies: one service per request, as the JSON
 * API requires, with `roundsPerRequest` consecutive points per series.
 */
export function jsonBodies(
  fleet: FleetSeries[],
  values: Float64Array[],
  options: FleetOptions,
  roundsPerRequest: number,
): { bodies: Buffer[]; points: number } {
  const byService = new Map<string, number[]>();
  fleet.forEach((series, index) => {
    const list = byService.get(series.service) ?? [];
    list.push(index);
    byService.set(series.service, list);
  });

  const bodies: Buffer[] = [];
  let points = 0;
  for (let from = 0; from < values.length; from += roundsPerRequest) {
    const to = Math.min(values.length, from + roundsPerRequest);
    for (const [service, indexes] of byService) {
      const series = indexes.map((index) => {
        const point: [number, number][] = [];
        for (let round = from; round < to; round += 1) {
          point.push([options.startMs + round * options.stepMs, values[round]![index]!]);
        }
        points += point.length;
        return { name: fleet[index]!.name, labels: fleet[index]!.labels, points: point };
      });
      bodies.push(Buffer.from(JSON.stringify({ service, series })));
    }
  }
  return { bodies, points };
}
