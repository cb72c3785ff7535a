import pg from "pg";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi,
} from "vitest";

import { ConfigError, parseConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import {
  recordEpisode,
  type Episode,
  type ScoredPoint,
  type SeriesContext,
} from "@/lib/incidents/detector";
import { recordRecovery } from "@/lib/incidents/recovery";
import { truncateAll } from "@/tests/support/database";

// Grouping of anomaly episodes on several series of one service into one
// detector incident, against the real database: the window, separate
// services, duplicates, two workers racing, and recovery that waits for every
// series of the incident. The default window is 10 minutes.

const ONSET = Date.parse("2026-03-01T10:00:00Z");
const MINUTE = 60_000;

let db: pg.Client;
let serviceId: number;
let cpu: SeriesContext;
let latency: SeriesContext;
let errors: SeriesContext;

function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  return client.connect().then(() => client);
}

function pointAt(ms: number, score: number, isAnomaly = true): ScoredPoint {
  return {
    ts: new Date(ms),
    value: 97.5,
    score,
    likelihood: 0.99,
    isAnomaly,
    expectedLow: 10,
    expectedHigh: 40,
  };
}

function episodeAt(ms: number, score: number): Episode {
  const point = pointAt(ms, score);
  return { continuesPrevious: false, onset: point, peak: point };
}

async function inTransaction<T>(
  client: pg.Client,
  work: () => Promise<T>,
): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

function record(series: SeriesContext, episode: Episode, client = db) {
  return inTransaction(client, () => recordEpisode(client, series, episode));
}

function recover(series: SeriesContext, ms: number, autoResolve = true) {
  return inTransaction(db, () =>
    recordRecovery(db, series, pointAt(ms, 0.3, false), { autoResolve }),
  );
}

async function createSeries(
  service: { id: number; slug: string; name: string },
  name: string,
): Promise<SeriesContext> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, '{}', '{}') RETURNING id`,
    [service.id, name],
  );
  return {
    seriesId: rows[0]!.id,
    serviceId: service.id,
    serviceSlug: service.slug,
    serviceName: service.name,
    metricName: name,
    labels: {},
  };
}

async function createService(slug: string, name: string) {
  const { rows } = await db.query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $2) RETURNING id",
    [slug, name],
  );
  return { id: rows[0]!.id, slug, name };
}

async function incidents() {
  const { rows } = await db.query<{
    id: number;
    status: string;
    severity: string;
    peak_score: number;
    opened_at: Date;
    resolved_at: Date | null;
  }>(
    `SELECT id, status, severity, peak_score, opened_at, resolved_at
       FROM incident ORDER BY id`,
  );
  return rows;
}

async function groupedSeries(incidentId: number) {
  const { rows } = await db.query<{
    series_id: number;
    onset_at: Date;
    peak_score: number;
    recovered_at: Date | null;
  }>(
    `SELECT series_id, onset_at, peak_score, recovered_at
       FROM incident_series WHERE incident_id = $1 ORDER BY onset_at, series_id`,
    [incidentId],
  );
  return rows;
}

async function events(incidentId: number) {
  const { rows } = await db.query<{
    kind: string;
    message: string;
    data: Record<string, unknown>;
  }>(
    "SELECT kind, message, data FROM incident_event WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  return rows;
}

beforeAll(async () => {
  db = await connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const checkout = await createService("checkout", "Checkout");
  serviceId = checkout.id;
  cpu = await createSeries(checkout, "cpu_utilization");
  latency = await createSeries(checkout, "p99_latency_ms");
  errors = await createSeries(checkout, "http_5xx_count");
});

describe("episode grouping", () => {
  it("joins series within the window", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const second = await record(latency, episodeAt(ONSET + 4 * MINUTE, 4.2));
    const third = await record(errors, episodeAt(ONSET - 10 * MINUTE, 2));

    expect(first.outcome).toBe("opened");
    const incidentId = (first as { incidentId: number }).incidentId;
    expect(second).toEqual({ outcome: "joined", incidentId });
    expect(third).toEqual({ outcome: "joined", incidentId });
    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(incident!.peak_score).toBe(4.2);
    expect(incident!.severity).toBe("sev1");
    // The onset of the series that opened it, whose scores the page and
    // feedback read at opened_at.
    expect(incident!.opened_at).toEqual(new Date(ONSET));

    const rows = await groupedSeries(incidentId);
    expect(rows.map((row) => row.series_id)).toEqual([
      errors.seriesId,
      cpu.seriesId,
      latency.seriesId,
    ]);
    expect(rows.map((row) => row.onset_at.getTime())).toEqual([
      ONSET - 10 * MINUTE,
      ONSET,
      ONSET + 4 * MINUTE,
    ]);
    expect(rows.every((row) => row.recovered_at === null)).toBe(true);

    const timeline = await events(incidentId);
    // The latency series' higher score raised the severity as it joined.
    expect(timeline.map((event) => event.kind)).toEqual([
      "opened",
      "severity_changed",
      "series_joined",
      "series_joined",
    ]);
    expect(timeline[1]!.message).toBe(
      "Severity raised from SEV3 to SEV1: the anomaly score reached 4.20",
    );
    expect(timeline[2]!.message).toMatch(
      /^Correlated series p99_latency_ms turned anomalous 4 min from the incident's onset \(grouping window 10 min\)/,
    );
    expect(timeline[2]!.data.seriesId).toBe(latency.seriesId);
  });

  it("opens a new incident outside the window", async () => {
    await record(cpu, episodeAt(ONSET, 1.6));
    const late = await record(
      latency,
      episodeAt(ONSET + 10 * MINUTE + 1000, 1.6),
    );

    expect(late.outcome).toBe("opened");
    expect(await incidents()).toHaveLength(2);
  });

  it("keeps other services apart", async () => {
    const search = await createService("search", "Search");
    const searchCpu = await createSeries(search, "cpu_utilization");

    await record(cpu, episodeAt(ONSET, 1.6));
    const other = await record(searchCpu, episodeAt(ONSET, 1.6));

    expect(other.outcome).toBe("opened");
    expect(await incidents()).toHaveLength(2);
  });

  it("joins the nearest of two open incidents", async () => {
    const early = await record(cpu, episodeAt(ONSET, 1.6));
    const late = await record(latency, episodeAt(ONSET + 15 * MINUTE, 1.6));

    const joined = await record(errors, episodeAt(ONSET + 9 * MINUTE, 1.6));

    expect(early.outcome).toBe("opened");
    expect(late.outcome).toBe("opened");
    expect(joined).toEqual({
      outcome: "joined",
      incidentId: (late as { incidentId: number }).incidentId,
    });
  });

  it("skips a resolved incident", async () => {
    await record(cpu, episodeAt(ONSET, 1.6));
    await db.query("UPDATE incident SET status = 'resolved'");

    const next = await record(latency, episodeAt(ONSET + MINUTE, 1.6));

    expect(next.outcome).toBe("opened");
  });

  it("reports a grouped episode twice as duplicate", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + MINUTE, 2));

    const again = await record(latency, episodeAt(ONSET + MINUTE, 2));
    await db.query("UPDATE incident SET status = 'resolved'");
    const afterResolve = await record(latency, episodeAt(ONSET + MINUTE, 2));

    expect(again).toEqual({ outcome: "duplicate", incidentId });
    expect(afterResolve).toEqual({ outcome: "duplicate", incidentId });
    expect(await incidents()).toHaveLength(1);
    const kinds = (await events(incidentId)).map((event) => event.kind);
    expect(kinds).toEqual(["opened", "series_joined"]);
  });

  it("adds a continued episode's peak", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + MINUTE, 1.6));
    const peak = pointAt(ONSET + 20 * MINUTE, 3.1);

    const continued = await record(latency, {
      continuesPrevious: true,
      onset: pointAt(ONSET + 15 * MINUTE, 1.2),
      peak,
    });

    expect(continued).toEqual({ outcome: "joined", incidentId });
    const rows = await groupedSeries(incidentId);
    expect(rows[1]!.peak_score).toBe(3.1);
    expect((await incidents())[0]!.severity).toBe("sev2");
  });
});

describe("incident without series rows", () => {
  it("is joined and resolved", async () => {
    // As inserted before incident_series existed, or by a test seed.
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO incident (service_id, series_id, title, status, severity,
                             source, dedup_key, peak_score, opened_at)
       VALUES ($1, $2, 'Seeded', 'triggered', 'sev3', 'detector', 'seeded', 1.6, $3)
       RETURNING id`,
      [serviceId, cpu.seriesId, new Date(ONSET)],
    );
    const incidentId = rows[0]!.id;

    const later = await record(cpu, episodeAt(ONSET + 30 * MINUTE, 2));
    const grouped = await record(latency, episodeAt(ONSET + 2 * MINUTE, 2));
    await recover(cpu, ONSET + 60 * MINUTE);
    const resolved = await recover(latency, ONSET + 50 * MINUTE);

    expect(later).toEqual({ outcome: "joined", incidentId });
    expect(grouped).toEqual({ outcome: "joined", incidentId });
    expect(resolved).toEqual({ outcome: "resolved", incidentId });
    expect((await groupedSeries(incidentId)).map((row) => row.series_id)).toEqual([
      cpu.seriesId,
      latency.seriesId,
    ]);
    expect((await incidents())[0]!.resolved_at).toEqual(
      new Date(ONSET + 60 * MINUTE),
    );
  });
});

describe("grouping with two workers", () => {
  it("waits for the first worker's incident", async () => {
    const other = await connect();
    try {
      await db.query("BEGIN");
      await other.query("BEGIN");
      const first = await recordEpisode(db, cpu, episodeAt(ONSET, 1.6));

      // The second worker blocks on the service's grouping lock until the
      // first commits, and then finds its incident.
      const pending = recordEpisode(
        other,
        latency,
        episodeAt(ONSET + 2 * MINUTE, 2),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.query("COMMIT");
      const second = await pending;
      await other.query("COMMIT");

      expect(first.outcome).toBe("opened");
      expect(second).toEqual({
        outcome: "joined",
        incidentId: (first as { incidentId: number }).incidentId,
      });
    } finally {
      await other.end();
    }
    expect(await incidents()).toHaveLength(1);
  });

  it("opens one incident for many racing series", async () => {
    const service = { id: serviceId, slug: "checkout", name: "Checkout" };
    const many = [cpu, latency, errors];
    for (let index = 0; index < 5; index += 1) {
      many.push(await createSeries(service, `queue_depth_${index}`));
    }
    const clients = await Promise.all(many.map(() => connect()));
    let outcomes;
    try {
      outcomes = await Promise.all(
        many.map((series, index) =>
          record(series, episodeAt(ONSET + index * 30_000, 1.6), clients[index]),
        ),
      );
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }

    const opened = outcomes.filter((outcome) => outcome.outcome === "opened");
    const joined = outcomes.filter((outcome) => outcome.outcome === "joined");
    expect(opened).toHaveLength(1);
    expect(joined).toHaveLength(many.length - 1);
    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(await groupedSeries(incident!.id)).toHaveLength(many.length);
  });
});

describe("recovery of a grouped incident", () => {
  it("resolves once every series recovered", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + 3 * MINUTE, 2));

    const cpuBack = await recover(cpu, ONSET + 60 * MINUTE);
    const stillOpen = (await incidents())[0]!;
    const latencyBack = await recover(latency, ONSET + 45 * MINUTE);

    expect(cpuBack).toEqual({ outcome: "recovered", incidentId });
    expect(stillOpen.status).toBe("triggered");
    expect(latencyBack).toEqual({ outcome: "resolved", incidentId });
    const [incident] = await incidents();
    expect(incident!.status).toBe("resolved");
    // The later of the two recoveries, although it was recorded first.
    expect(incident!.resolved_at).toEqual(new Date(ONSET + 60 * MINUTE));

    const timeline = await events(incidentId);
    expect(timeline.map((event) => event.kind)).toEqual([
      "opened",
      "series_joined",
      "recovered",
      "resolved",
    ]);
    expect(timeline[2]!.message).toMatch(
      /^Recovered: cpu_utilization was back to normal .*\. 1 of 2 correlated series \(p99_latency_ms\) is still anomalous, so the incident stays open\.$/,
    );
    expect(timeline[2]!.data.anomalousSeriesIds).toEqual([latency.seriesId]);
    expect(timeline[3]!.message).toMatch(
      /^Resolved: p99_latency_ms was back to normal .*\. All 2 correlated series are back to normal\.$/,
    );
  });

  it("holds open after a series relapses", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + 3 * MINUTE, 2));
    await recover(cpu, ONSET + 30 * MINUTE);

    // cpu turns anomalous again while latency still is: the same incident.
    const relapse = await record(cpu, episodeAt(ONSET + 40 * MINUTE, 1.7));
    const latencyBack = await recover(latency, ONSET + 50 * MINUTE);
    const afterLatency = (await incidents())[0]!;
    const cpuBack = await recover(cpu, ONSET + 70 * MINUTE);

    expect(relapse).toEqual({ outcome: "joined", incidentId });
    expect(latencyBack.outcome).toBe("recovered");
    expect(afterLatency.status).toBe("triggered");
    expect(cpuBack).toEqual({ outcome: "resolved", incidentId });
    expect((await incidents())[0]!.resolved_at).toEqual(
      new Date(ONSET + 70 * MINUTE),
    );
  });

  it("keeps an acknowledged group open", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + 3 * MINUTE, 2));
    await db.query(
      "UPDATE incident SET status = 'acknowledged', acknowledged_at = now()",
    );

    await recover(cpu, ONSET + 30 * MINUTE);
    const last = await recover(latency, ONSET + 40 * MINUTE);

    expect(last).toEqual({ outcome: "recovered", incidentId });
    expect((await incidents())[0]!.status).toBe("acknowledged");
    const timeline = await events(incidentId);
    expect(timeline.at(-1)!.message).toMatch(
      /The incident was acknowledged, so it stays open until its responder resolves it\.$/,
    );
    const rows = await groupedSeries(incidentId);
    expect(rows.map((row) => row.recovered_at)).toEqual([
      new Date(ONSET + 30 * MINUTE),
      new Date(ONSET + 40 * MINUTE),
    ]);
  });

  it("records a repeated recovery once", async () => {
    const first = await record(cpu, episodeAt(ONSET, 1.6));
    const incidentId = (first as { incidentId: number }).incidentId;
    await record(latency, episodeAt(ONSET + 3 * MINUTE, 2));

    await recover(cpu, ONSET + 30 * MINUTE);
    const again = await recover(cpu, ONSET + 30 * MINUTE);

    expect(again).toEqual({ outcome: "duplicate", incidentId });
    const kinds = (await events(incidentId)).map((event) => event.kind);
    expect(kinds.filter((kind) => kind === "recovered")).toHaveLength(1);
  });
});

describe("service grouping window", () => {
  it("overrides the default window", async () => {
    await db.query(
      "UPDATE service SET grouping_window_minutes = 30 WHERE id = $1",
      [serviceId],
    );

    await record(cpu, episodeAt(ONSET, 1.6));
    const joined = await record(latency, episodeAt(ONSET + 25 * MINUTE, 1.6));

    expect(joined.outcome).toBe("joined");
    const timeline = await events((await incidents())[0]!.id);
    expect(timeline[1]!.message).toMatch(/grouping window 30 min/);
  });

  it("0 turns grouping off for the service", async () => {
    await db.query(
      "UPDATE service SET grouping_window_minutes = 0 WHERE id = $1",
      [serviceId],
    );

    await record(cpu, episodeAt(ONSET, 1.6));
    const same = await record(latency, episodeAt(ONSET, 1.6));

    expect(same.outcome).toBe("opened");
    expect(await incidents()).toHaveLength(2);
  });

  it("rejects a window out of range", async () => {
    await expect(
      db.query("UPDATE service SET grouping_window_minutes = 1441"),
    ).rejects.toThrow(/service_grouping_window_minutes_check/);
  });
});

describe("VIGIL_GROUPING_WINDOW_MINUTES", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("parses with 10 as default", () => {
    const parse = (values: Record<string, string>) =>
      parseConfig(values as NodeJS.ProcessEnv).VIGIL_GROUPING_WINDOW_MINUTES;

    expect(parse({})).toBe(10);
    expect(parse({ VIGIL_GROUPING_WINDOW_MINUTES: "0" })).toBe(0);
    expect(parse({ VIGIL_GROUPING_WINDOW_MINUTES: "1440" })).toBe(1440);
    for (const invalid of ["-1", "1441", "2.5", "ten"]) {
      expect(
        () => parse({ VIGIL_GROUPING_WINDOW_MINUTES: invalid }),
        invalid,
      ).toThrow(/VIGIL_GROUPING_WINDOW_MINUTES/);
    }
    expect(() => parse({ VIGIL_GROUPING_WINDOW_MINUTES: "x" })).toThrow(
      ConfigError,
    );
  });

  it("widens the window when set", async () => {
    vi.stubEnv("VIGIL_GROUPING_WINDOW_MINUTES", "30");
    vi.resetModules();
    const detector = await import("@/lib/incidents/detector");
    const recordWide = (series: SeriesContext, episode: Episode) =>
      inTransaction(db, () => detector.recordEpisode(db, series, episode));

    await recordWide(cpu, episodeAt(ONSET, 1.6));
    const joined = await recordWide(
      latency,
      episodeAt(ONSET + 25 * MINUTE, 1.6),
    );

    expect(joined.outcome).toBe("joined");
    const timeline = await events((await incidents())[0]!.id);
    expect(timeline[1]!.message).toMatch(/grouping window 30 min/);
  });

  it("0 turns grouping off", async () => {
    vi.stubEnv("VIGIL_GROUPING_WINDOW_MINUTES", "0");
    vi.resetModules();
    const detector = await import("@/lib/incidents/detector");
    const recordUngrouped = (series: SeriesContext, episode: Episode) =>
      inTransaction(db, () => detector.recordEpisode(db, series, episode));

    await recordUngrouped(cpu, episodeAt(ONSET, 1.6));
    const same = await recordUngrouped(latency, episodeAt(ONSET, 1.6));

    expect(same.outcome).toBe("opened");
    expect(await incidents()).toHaveLength(2);
  });
});
