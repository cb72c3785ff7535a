import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { getConfig } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { replaySeries } from "@/lib/detector/replay";
import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";
import { loadNabSeries, type NabSeries } from "@/tests/support/nab";
import { runScoreSeries } from "@/workers/score-series";
import { runTrainSeries } from "@/workers/train-series";

// The worker and the NAB evaluation must run the same detector. This test
// feeds a NAB series to the real worker code against the real database. Its
// batches end where the replay (lib/detector/replay.ts) checks the
// retraining policy. Each training job the scoring queues runs before the
// next batch, as on an idle worker. Every stored score, likelihood
// and alarm must then equal the replay's, including across a retraining.

const NAB_FILE = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
/** Enough points for the first model and several retraining checks. */
const POINTS = 1600;
const log = logger.child({ test: "worker-replay-parity" });

let db: pg.Client;
let series: NabSeries;

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  return client;
}

async function appendPoints(
  seriesId: number,
  points: NabSeries["points"],
): Promise<void> {
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value
       FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)`,
    [
      seriesId,
      points.map((point) => point.ts),
      points.map((point) => point.value),
    ],
  );
}

/** Runs the queued training jobs of the series, oldest first. */
async function runQueuedTraining(seriesId: number): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM model_training_job
      WHERE series_id = $1 AND status = 'queued' ORDER BY id`,
    [seriesId],
  );
  for (const row of rows) await runTrainSeries(db, row.id, log);
  return rows.length;
}

beforeAll(async () => {
  db = await connect();
  series = loadNabSeries(NAB_FILE);
});

afterAll(async () => {
  await db.end();
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

describe("worker and NAB replay", () => {
  it("store the same scores and alarms", async () => {
    const points = series.points.slice(0, POINTS);
    const values = points.map((point) => point.value);
    const trainingPoints = getConfig().VIGIL_MIN_TRAINING_POINTS;
    const replay = await replaySeries(values, {
      minTrainingPoints: trainingPoints,
    });

    const service = await db.query<{ id: number }>(
      `INSERT INTO service (slug, name) VALUES ('web', 'Web') RETURNING id`,
    );
    const created = await db.query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'cpu', '{}', '{}') RETURNING id`,
      [service.rows[0]!.id],
    );
    const seriesId = created.rows[0]!.id;

    // Batches end where the replay checks the policy: after the training
    // points, then every checkEveryPoints.
    let sent = 0;
    let trainingJobs = 0;
    while (sent < points.length) {
      const end =
        sent === 0
          ? trainingPoints
          : Math.min(points.length, sent + DEFAULT_RETRAIN_POLICY.checkEveryPoints);
      await appendPoints(seriesId, points.slice(sent, end));
      sent = end;
      await runScoreSeries(db, seriesId, log);
      trainingJobs += await runQueuedTraining(seriesId);
    }

    const { rows } = await db.query<{
      ts: Date;
      score: number;
      likelihood: number;
      is_anomaly: boolean;
    }>(
      `SELECT ts, score, likelihood, is_anomaly FROM anomaly_score
        WHERE series_id = $1 ORDER BY ts`,
      [seriesId],
    );
    const expected = replay.points.map((point) => ({
      ts: points[point.index]!.ts.toISOString(),
      score: point.score,
      likelihood: point.anomalyScore,
      isAnomaly: point.isAnomaly,
    }));
    const stored = rows.map((row) => ({
      ts: row.ts.toISOString(),
      score: row.score,
      likelihood: row.likelihood,
      isAnomaly: row.is_anomaly,
    }));

    expect(replay.retrainings.length).toBeGreaterThan(0);
    expect(trainingJobs).toBe(replay.retrainings.length);
    expect(stored).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i += 1) {
      const want = expected[i]!;
      const got = stored[i]!;
      expect(got.ts, `point ${i}`).toBe(want.ts);
      expect(got.score, `score at ${want.ts}`).toBeCloseTo(want.score, 9);
      expect(got.likelihood, `likelihood at ${want.ts}`).toBeCloseTo(
        want.likelihood,
        9,
      );
      expect(got.isAnomaly, `alarm at ${want.ts}`).toBe(want.isAnomaly);
    }
  });
});
