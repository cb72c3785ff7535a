import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb } from "@/lib/db";
import { EPISODE_QUIET_POINTS } from "@/lib/incidents/episodes";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";
import { syntheticValues } from "@/tests/support/model-series";
import { runScoreSeries } from "@/workers/score-series";

// Grouping through the score-series job with the real model: two series of
// one service that spike together open one incident, which resolves only
// when the slower series has recovered too. The series are a daily sine wave
// with seeded noise at 5-minute steps, on which a spike of +40 scores far
// above 1.

const STEP_MS = 5 * 60 * 1000;
const START = Date.parse("2026-11-01T00:00:00Z");
const HISTORY = 1200;
const SPIKE = 40;
const log = logger.child({ test: "incident-grouping-worker" });

/** Point indexes [from, to) raised by SPIKE. */
type Spike = [number, number];

let db: pg.Client;
let cpuId: number;
let latencyId: number;

// A daily sine (288 points of 5 minutes) with noise of standard deviation
// 0.6, close to the uniform noise of worker-recovery.test.ts.
const BASELINE = syntheticValues({ count: 2400, seed: 11, period: 288, noise: 0.6 });

const timeAt = (index: number) => new Date(START + index * STEP_MS);

async function appendPoints(
  seriesId: number,
  from: number,
  to: number,
  spikes: Spike[] = [],
) {
  const indexes = Array.from({ length: to - from }, (_, offset) => from + offset);
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
}

async function incidents() {
  const { rows } = await db.query<{
    id: number;
    status: string;
    opened_at: Date;
    resolved_at: Date | null;
  }>("SELECT id, status, opened_at, resolved_at FROM incident ORDER BY id");
  return rows;
}

async function recoveredAt(incidentId: number, seriesId: number) {
  const { rows } = await db.query<{ recovered_at: Date | null }>(
    `SELECT recovered_at FROM incident_series
      WHERE incident_id = $1 AND series_id = $2`,
    [incidentId, seriesId],
  );
  return rows[0]?.recovered_at;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const service = await db.query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('payments', 'Payments') RETURNING id",
  );
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'cpu', '{}', '{}'), ($1, 'latency', '{}', '{}')
     RETURNING id`,
    [service.rows[0]!.id],
  );
  [cpuId, latencyId] = created.rows.map((row) => row.id) as [number, number];
  for (const seriesId of [cpuId, latencyId]) {
    await appendPoints(seriesId, 0, HISTORY);
    const trained = await runScoreSeries(db, seriesId, log);
    expect(trained.trained).toBe(true);
  }
});

describe("grouping in the score-series job", () => {
  it("resolves after the slower series", async () => {
    const cpuSpike: Spike = [1300, 1306];
    const latencySpike: Spike = [1300, 1330];
    // Both series reach the spike, then each job scores the rest.
    for (const [seriesId, spike] of [
      [cpuId, cpuSpike],
      [latencyId, latencySpike],
    ] as const) {
      await appendPoints(seriesId, HISTORY, 1302, [spike]);
    }
    const cpuStart = await runScoreSeries(db, cpuId, log);
    const latencyStart = await runScoreSeries(db, latencyId, log);

    expect(cpuStart.opened).toHaveLength(1);
    expect(latencyStart.opened).toEqual([]);
    expect(latencyStart.joined).toEqual(cpuStart.opened);
    const incidentId = cpuStart.opened[0]!;

    await appendPoints(cpuId, 1302, 1500, [cpuSpike]);
    await appendPoints(latencyId, 1302, 1500, [latencySpike]);
    const cpuEnd = await runScoreSeries(db, cpuId, log);
    const afterCpu = await incidents();
    const latencyEnd = await runScoreSeries(db, latencyId, log);

    expect(cpuEnd.recovered).toEqual([incidentId]);
    expect(cpuEnd.resolved).toEqual([]);
    expect(afterCpu.map((incident) => incident.status)).toEqual(["triggered"]);
    expect(latencyEnd.resolved).toEqual([incidentId]);

    const [incident, ...others] = await incidents();
    expect(others).toEqual([]);
    expect(incident!.status).toBe("resolved");
    const cpuBack = await recoveredAt(incidentId, cpuId);
    const latencyBack = await recoveredAt(incidentId, latencyId);
    expect(cpuBack).toBeInstanceOf(Date);
    expect(latencyBack).toBeInstanceOf(Date);
    expect(latencyBack!.getTime()).toBeGreaterThan(cpuBack!.getTime());
    expect(latencyBack!.getTime()).toBeGreaterThanOrEqual(
      timeAt(latencySpike[1]).getTime(),
    );
    expect(incident!.resolved_at).toEqual(latencyBack);
    expect(incident!.opened_at).toEqual(timeAt(cpuSpike[0]));
  });

  it("opens two incidents for distant spikes", async () => {
    // 42 points (210 minutes) apart, far outside the 10-minute window.
    const cpuSpike: Spike = [1300, 1304];
    const latencySpike: Spike = [1300 + EPISODE_QUIET_POINTS + 30, 1346];
    await appendPoints(cpuId, HISTORY, 1320, [cpuSpike]);
    await appendPoints(latencyId, HISTORY, 1345, [latencySpike]);

    const cpu = await runScoreSeries(db, cpuId, log);
    const latency = await runScoreSeries(db, latencyId, log);

    expect(cpu.opened).toHaveLength(1);
    expect(latency.opened).toHaveLength(1);
    expect(latency.joined).toEqual([]);
    expect(await incidents()).toHaveLength(2);
  });
});
