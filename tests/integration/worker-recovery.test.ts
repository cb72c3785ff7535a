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
  acknowledgeIncident,
  resolveIncident,
  type IncidentActor,
} from "@/lib/incidents/actions";
import {
  EPISODE_HOLD_DEVIATION,
  EPISODE_QUIET_POINTS,
} from "@/lib/incidents/episodes";
import { recordRecovery } from "@/lib/incidents/recovery";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";
import { runScoreSeries } from "@/workers/score-series";

// Detector incidents that end with their anomaly episode, against the real
// database and the real model. The series is synthetic: a daily sine wave
// with seeded noise at 5-minute steps, plus spikes of +40. The model trains
// on the first HISTORY points. On the wasm backend it scored the normal
// points 0.8 at most and the spikes above 9, so the episodes start at the
// spikes and end some 40 points later.

const STEP_MS = 5 * 60 * 1000;
const START = Date.parse("2026-11-01T00:00:00Z");
const HISTORY = 1200;
const SPIKE = 40;
const FIRST_SPIKE: Spike = [1300, 1308];
const SECOND_SPIKE: Spike = [1600, 1604];
const ACKNOWLEDGED_REASON =
  "The incident was acknowledged, so it stays open until its responder resolves it.";
const log = logger.child({ test: "worker-recovery" });

/** Point indexes [from, to) raised by SPIKE. */
type Spike = [number, number];

type IncidentRow = {
  id: number;
  status: string;
  opened_at: Date;
  resolved_at: Date | null;
  resolved_by_id: number | null;
  acknowledged_by_id: number | null;
  dedup_key: string;
};

type EventRow = {
  kind: string;
  actor_type: string;
  actor_id: number | null;
  actor_name: string;
  message: string;
  data: Record<string, unknown>;
};

let db: pg.Client;
let seriesId: number;
let serviceId: number;
let alice: IncidentActor;

/** Returns a mulberry32 generator, so the noise is the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const noise = seededRandom(7);
const BASELINE = Array.from(
  { length: 2400 },
  (_, index) =>
    50 + 10 * Math.sin((2 * Math.PI * index) / 288) + (noise() - 0.5) * 2,
);

const timeAt = (index: number) => new Date(START + index * STEP_MS);
const indexOf = (date: Date) => (date.getTime() - START) / STEP_MS;

function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  return client.connect().then(() => client);
}

/** Inserts the points with indexes [from, to), raised inside the spikes. */
async function appendPoints(from: number, to: number, spikes: Spike[] = []) {
  const indexes = Array.from(
    { length: to - from },
    (_, offset) => from + offset,
  );
  const values = indexes.map((index) => {
    const spiked = spikes.some(([start, end]) => index >= start && index < end);
    return BASELINE[index]! + (spiked ? SPIKE : 0);
  });
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value
       FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)`,
    [seriesId, indexes.map(timeAt), values],
  );
  await db.query("UPDATE metric_series SET last_point_at = $2 WHERE id = $1", [
    seriesId,
    timeAt(to - 1),
  ]);
}

/**
 * Reads the stored scores from `from` on and returns the index of the point
 * that completes EPISODE_QUIET_POINTS points back to normal after the first
 * alarm, or null when the series has not recovered. A point keeps the
 * episode going while it raises an alarm, or scores above 1 with a
 * deviation of at least EPISODE_HOLD_DEVIATION, as in findEpisodes.
 */
async function expectedRecoveryIndex(from: number): Promise<number | null> {
  const { rows } = await db.query<{
    ts: Date;
    is_anomaly: boolean;
    score: number;
    deviation: number | null;
  }>(
    `SELECT ts, is_anomaly, score, deviation FROM anomaly_score
      WHERE series_id = $1 AND ts >= $2 ORDER BY ts`,
    [seriesId, timeAt(from)],
  );
  let active = false;
  let quiet = 0;
  for (const row of rows) {
    const unusual =
      row.deviation === null || row.deviation >= EPISODE_HOLD_DEVIATION;
    if (row.is_anomaly || (active && row.score > 1 && unusual)) {
      active = true;
      quiet = 0;
    } else if (active && ++quiet === EPISODE_QUIET_POINTS) {
      return indexOf(row.ts);
    }
  }
  return null;
}

/** Index of the first stored alarm at or after `from`, or null. */
async function firstAlarmIndex(from: number): Promise<number | null> {
  const { rows } = await db.query<{ ts: Date }>(
    `SELECT ts FROM anomaly_score
      WHERE series_id = $1 AND ts >= $2 AND is_anomaly
      ORDER BY ts LIMIT 1`,
    [seriesId, timeAt(from)],
  );
  return rows[0] ? indexOf(rows[0].ts) : null;
}

/** Time of the first point of the quiet run that ends at `recoveredIndex`. */
function quietStartTime(recoveredIndex: number): Date {
  return timeAt(recoveredIndex - EPISODE_QUIET_POINTS + 1);
}

async function loadIncidents(): Promise<IncidentRow[]> {
  const { rows } = await db.query<IncidentRow>(
    `SELECT id, status, opened_at, resolved_at, resolved_by_id,
            acknowledged_by_id, dedup_key
       FROM incident ORDER BY opened_at`,
  );
  return rows;
}

async function loadEvents(incidentId: number): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT kind, actor_type, actor_id, actor_name, message, data
       FROM incident_event WHERE incident_id = $1 ORDER BY id`,
    [incidentId],
  );
  return rows;
}

/** Reads the rows that scoring and recovery write, to compare two runs. */
async function snapshot() {
  const read = async (sql: string) => (await db.query(sql)).rows;
  return {
    incidents: await read("SELECT * FROM incident ORDER BY id"),
    events: await read("SELECT * FROM incident_event ORDER BY id"),
    scores: await read("SELECT count(*) FROM anomaly_score"),
    runbooks: await read("SELECT * FROM incident_runbook ORDER BY 1, 2"),
  };
}

function recoveryText(recoveredIndex: number): string {
  const since = timeAt(recoveredIndex - EPISODE_QUIET_POINTS + 1);
  return `queue_depth was back to normal (inside the expected range, or with errors usual for it) for ${EPISODE_QUIET_POINTS} points since ${since.toISOString()}`;
}

/** Polls until `count` sessions of this database wait on a lock. */
async function waitForLockWaiters(client: pg.Client, count: number) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    // Inside a transaction pg_stat_activity is a snapshot taken on first
    // read, so each poll clears it.
    await client.query("SELECT pg_stat_clear_snapshot()");
    const { rows } = await client.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.waiting ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${count} sessions to block on a lock`);
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
  const service = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('payments', 'Payments')
     RETURNING id`,
  );
  serviceId = service.rows[0]!.id;
  const series = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'queue_depth', '{}', '{}') RETURNING id`,
    [serviceId],
  );
  seriesId = series.rows[0]!.id;
  await db.query(
    `INSERT INTO runbook (slug, title, body) VALUES ('triage', 'Triage', 'Look.')`,
  );
  const user = await db.query<{ id: number; name: string }>(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ('alice@example.test', 'Alice', '-', 'responder')
     RETURNING id, name`,
  );
  alice = user.rows[0]!;

  await appendPoints(0, HISTORY);
  const trained = await runScoreSeries(db, seriesId, log);
  expect(trained.trained).toBe(true);
  expect(trained.opened).toEqual([]);
});

describe("recovery in the score-series job", () => {
  it("resolves at the recovery point", async () => {
    await appendPoints(HISTORY, 1500, [FIRST_SPIKE]);

    const result = await runScoreSeries(db, seriesId, log);

    expect(result.opened).toHaveLength(1);
    expect(result.resolved).toEqual(result.opened);
    expect(result.recovered).toEqual([]);
    const [incident, ...others] = await loadIncidents();
    expect(others).toEqual([]);
    const recoveredIndex = await expectedRecoveryIndex(FIRST_SPIKE[0]);
    expect(recoveredIndex).not.toBeNull();
    expect(recoveredIndex!).toBeGreaterThan(FIRST_SPIKE[1]);
    expect(incident!.status).toBe("resolved");
    expect(indexOf(incident!.opened_at)).toBe(FIRST_SPIKE[0]);
    expect(incident!.resolved_at).toEqual(quietStartTime(recoveredIndex!));
    expect(incident!.resolved_by_id).toBeNull();

    const events = await loadEvents(incident!.id);
    expect(events.map((event) => event.kind)).toEqual([
      "opened",
      "runbooks_suggested",
      "resolved",
    ]);
    const resolved = events[2]!;
    expect(resolved.actor_type).toBe("worker");
    expect(resolved.actor_name).toBe("anomaly detector");
    expect(resolved.actor_id).toBeNull();
    expect(resolved.message).toBe(
      `Resolved: ${recoveryText(recoveredIndex!)}.`,
    );
    expect(resolved.data.recoveredAt).toBe(
      timeAt(recoveredIndex!).toISOString(),
    );
    expect(resolved.data.quietPoints).toBe(EPISODE_QUIET_POINTS);
  });

  it("resolves across jobs and chunks", async () => {
    // The first job ends just after the alarm and the second fewer than
    // EPISODE_QUIET_POINTS points later, so the episode cannot have ended
    // before the third job, whatever the detector's scores.
    await appendPoints(HISTORY, FIRST_SPIKE[0] + 1, [FIRST_SPIKE]);
    const during = await runScoreSeries(db, seriesId, log);
    const secondEnd = FIRST_SPIKE[0] + EPISODE_QUIET_POINTS - 1;
    await appendPoints(FIRST_SPIKE[0] + 1, secondEnd, [FIRST_SPIKE]);
    const quieting = await runScoreSeries(db, seriesId, log);
    const stillOpen = await loadIncidents();
    await appendPoints(secondEnd, 1500);

    const after = await runScoreSeries(db, seriesId, log, { chunkPoints: 5 });

    expect(during.opened).toHaveLength(1);
    expect(during.resolved).toEqual([]);
    expect(quieting.resolved).toEqual([]);
    expect(stillOpen.map((incident) => incident.status)).toEqual(["triggered"]);
    expect(after.opened).toEqual([]);
    expect(after.resolved).toEqual(during.opened);
    const [incident] = await loadIncidents();
    const recoveredIndex = await expectedRecoveryIndex(FIRST_SPIKE[0]);
    expect(recoveredIndex!).toBeGreaterThanOrEqual(secondEnd);
    expect(incident!.status).toBe("resolved");
    expect(incident!.resolved_at).toEqual(quietStartTime(recoveredIndex!));
    const kinds = (await loadEvents(incident!.id)).map((event) => event.kind);
    expect(kinds.filter((kind) => kind === "resolved")).toHaveLength(1);
  });

  it("opens a new incident after recovery", async () => {
    await appendPoints(HISTORY, 1800, [FIRST_SPIKE, SECOND_SPIKE]);

    const result = await runScoreSeries(db, seriesId, log);

    expect(result.opened).toHaveLength(2);
    expect(result.resolved).toEqual(result.opened);
    expect(result.joined).toEqual([]);
    const [first, second] = await loadIncidents();
    expect(first!.id).toBe(result.opened[0]);
    expect(second!.id).toBe(result.opened[1]);
    expect(second!.dedup_key).not.toBe(first!.dedup_key);
    // The second spike stays inside the range the first one widened, so
    // the alarm waits for the mean of the recent scores and may come a few
    // points after the spike starts.
    const secondAlarm = await firstAlarmIndex(SECOND_SPIKE[0]);
    expect(secondAlarm).not.toBeNull();
    expect(secondAlarm!).toBeLessThanOrEqual(
      SECOND_SPIKE[0] + EPISODE_QUIET_POINTS,
    );
    expect(second!.dedup_key).toBe(
      `detector:${seriesId}:${timeAt(secondAlarm!).getTime()}`,
    );
    expect(indexOf(second!.opened_at)).toBe(secondAlarm);
    expect(first!.resolved_at!.getTime()).toBeLessThan(
      second!.opened_at.getTime(),
    );
    expect(second!.resolved_at).toEqual(
      quietStartTime((await expectedRecoveryIndex(SECOND_SPIKE[0]))!),
    );
    for (const incident of [first!, second!]) {
      const kinds = (await loadEvents(incident.id)).map((event) => event.kind);
      expect(kinds).toEqual(["opened", "runbooks_suggested", "resolved"]);
    }
  });

  it("changes nothing on a rerun", async () => {
    await appendPoints(HISTORY, 1800, [FIRST_SPIKE, SECOND_SPIKE]);
    await runScoreSeries(db, seriesId, log);
    const before = await snapshot();

    const again = await runScoreSeries(db, seriesId, log);

    expect(again.scoredPoints).toBe(0);
    expect(again.opened).toEqual([]);
    expect(again.resolved).toEqual([]);
    expect(again.recovered).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});

describe("recovery of an acknowledged incident", () => {
  it("keeps it open with a recovered event", async () => {
    await appendPoints(HISTORY, 1315, [FIRST_SPIKE]);
    const during = await runScoreSeries(db, seriesId, log);
    const incidentId = during.opened[0]!;
    const acknowledged = await acknowledgeIncident(incidentId, alice);
    await appendPoints(1315, 1500);

    const after = await runScoreSeries(db, seriesId, log);

    expect(acknowledged.outcome).toBe("applied");
    expect(after.resolved).toEqual([]);
    expect(after.recovered).toEqual([incidentId]);
    const [incident] = await loadIncidents();
    expect(incident!.status).toBe("acknowledged");
    expect(incident!.acknowledged_by_id).toBe(alice.id);
    expect(incident!.resolved_at).toBeNull();
    const events = await loadEvents(incidentId);
    expect(events.map((event) => event.kind)).toEqual([
      "opened",
      "runbooks_suggested",
      "acknowledged",
      "recovered",
    ]);
    const recoveredIndex = await expectedRecoveryIndex(FIRST_SPIKE[0]);
    const recovered = events[3]!;
    expect(recovered.actor_name).toBe("anomaly detector");
    expect(recovered.message).toBe(
      `Recovered: ${recoveryText(recoveredIndex!)}. ${ACKNOWLEDGED_REASON}`,
    );
    expect(recovered.data.recoveredAt).toBe(
      timeAt(recoveredIndex!).toISOString(),
    );

    const before = await snapshot();
    await runScoreSeries(db, seriesId, log);
    expect(await snapshot()).toEqual(before);
    expect((await resolveIncident(incidentId, alice)).outcome).toBe("applied");
  });

  it("lets a concurrent acknowledgement win", async () => {
    await appendPoints(HISTORY, 1315, [FIRST_SPIKE]);
    const during = await runScoreSeries(db, seriesId, log);
    const incidentId = during.opened[0]!;
    await appendPoints(1315, 1500);
    const responder = await connect();
    const worker = await connect();
    let after;
    try {
      // The responder's UPDATE holds the row lock, so the job blocks on it
      // and must then see the acknowledged status.
      await responder.query("BEGIN");
      await responder.query(
        `UPDATE incident
            SET status = 'acknowledged', acknowledged_at = now(),
                acknowledged_by_id = $2
          WHERE id = $1 AND status = 'triggered'`,
        [incidentId, alice.id],
      );
      const running = runScoreSeries(worker, seriesId, log);
      await waitForLockWaiters(responder, 1);
      await responder.query("COMMIT");
      after = await running;
    } finally {
      await responder.end();
      await worker.end();
    }

    expect(after.resolved).toEqual([]);
    expect(after.recovered).toEqual([incidentId]);
    const [incident] = await loadIncidents();
    expect(incident!.status).toBe("acknowledged");
    expect(incident!.resolved_at).toBeNull();
    const kinds = (await loadEvents(incidentId)).map((event) => event.kind);
    expect(kinds.at(-1)).toBe("recovered");
  });

  it("reports a resolution that committed first", async () => {
    await appendPoints(HISTORY, 1500, [FIRST_SPIKE]);
    await runScoreSeries(db, seriesId, log, { autoResolve: false });
    const [open] = await loadIncidents();
    const recoveredIndex = (await expectedRecoveryIndex(FIRST_SPIKE[0]))!;
    const series = {
      seriesId,
      serviceId,
      serviceSlug: "payments",
      serviceName: "Payments",
      metricName: "queue_depth",
      labels: {},
    };
    const point = {
      ts: timeAt(recoveredIndex),
      value: BASELINE[recoveredIndex]!,
      score: 0.5,
      likelihood: 0.5,
      isAnomaly: false,
      expectedLow: 0,
      expectedHigh: 100,
    };

    // The job's transaction holds the row lock while the responder's
    // acknowledgement waits on it.
    await db.query("BEGIN");
    let outcome;
    let acknowledging;
    try {
      outcome = await recordRecovery(db, series, point, { autoResolve: true });
      acknowledging = acknowledgeIncident(open!.id, alice);
      await waitForLockWaiters(db, 1);
      await db.query("COMMIT");
    } catch (error) {
      await db.query("ROLLBACK");
      throw error;
    }
    const acknowledged = await acknowledging;

    expect(open!.status).toBe("triggered");
    expect(outcome).toEqual({ outcome: "resolved", incidentId: open!.id });
    expect(acknowledged).toMatchObject({
      outcome: "unchanged",
      status: "resolved",
      by: "anomaly detector",
    });
    const [incident] = await loadIncidents();
    expect(incident!.resolved_at).toEqual(quietStartTime(recoveredIndex));
    expect(incident!.acknowledged_by_id).toBeNull();
  });
});

describe("VIGIL_AUTO_RESOLVE", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("parses with true as default", () => {
    const parse = (values: Record<string, string>) =>
      parseConfig(values as NodeJS.ProcessEnv).VIGIL_AUTO_RESOLVE;

    expect(parse({})).toBe(true);
    for (const value of ["", "true", "1", "yes"]) {
      expect(parse({ VIGIL_AUTO_RESOLVE: value }), value).toBe(true);
    }
    for (const value of ["false", "0", "no"]) {
      expect(parse({ VIGIL_AUTO_RESOLVE: value }), value).toBe(false);
    }
    expect(() => parse({ VIGIL_AUTO_RESOLVE: "maybe" })).toThrow(ConfigError);
    expect(() => parse({ VIGIL_AUTO_RESOLVE: "maybe" })).toThrow(
      /VIGIL_AUTO_RESOLVE/,
    );
  });

  it("false leaves incidents open", async () => {
    // A fresh module graph, so that the job reads the stubbed environment
    // instead of the configuration cached by earlier tests.
    vi.stubEnv("VIGIL_AUTO_RESOLVE", "false");
    vi.resetModules();
    const job = await import("@/workers/score-series");
    await appendPoints(HISTORY, 1800, [FIRST_SPIKE, SECOND_SPIKE]);

    const result = await job.runScoreSeries(db, seriesId, log);

    expect(result.opened).toHaveLength(1);
    expect(result.joined).toEqual(result.opened);
    expect(result.resolved).toEqual([]);
    expect(result.recovered).toEqual([...result.opened, ...result.opened]);
    const [incident, ...others] = await loadIncidents();
    expect(others).toEqual([]);
    expect(incident!.status).toBe("triggered");
    expect(incident!.resolved_at).toBeNull();
    const events = await loadEvents(incident!.id);
    expect(events.map((event) => event.kind)).toEqual([
      "opened",
      "runbooks_suggested",
      "recovered",
      "anomaly",
      "recovered",
    ]);
    expect(events[2]!.message).toMatch(/VIGIL_AUTO_RESOLVE=false/);
    expect(events[4]!.data.recoveredAt).toBe(
      timeAt((await expectedRecoveryIndex(SECOND_SPIKE[0]))!).toISOString(),
    );
  });
});
