import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { getConfig } from "@/lib/config";
import { DEFAULT_PARAMS } from "@/lib/detector/model";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";
import { loadNabSeries, shiftToEnd, type NabSeries } from "@/tests/support/nab";
import {
  enqueueStaleSeries,
  STALE_LOCK_MINUTES,
} from "@/workers/enqueue-stale-series";
import { runScoreSeries } from "@/workers/score-series";

// The score-series job against the real database, on a NAB AWS CloudWatch
// series whose labelled anomaly window the detector finds: EC2 CPU of
// instance 825cc2, 4,032 points at 5-minute steps, one window. Every anomaly
// episode in this history ends, so each one opens an incident that the job
// resolves when the series recovers.

const NAB_FILE = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const STEP_MS = 5 * 60 * 1000;
const log = logger.child({ test: "worker-score-series" });

let db: pg.Client;
let series: NabSeries;

function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  return client.connect().then(() => client);
}

async function insertPoints(seriesId: number, points: NabSeries["points"]) {
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
  await db.query(
    `UPDATE metric_series SET last_point_at = (
       SELECT max(ts) FROM data_point WHERE series_id = $1)
     WHERE id = $1`,
    [seriesId],
  );
}

/** Creates the checkout service, its CPU series and four runbooks. */
async function seedSeries(points: NabSeries["points"]): Promise<number> {
  const service = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('checkout', 'Checkout')
     RETURNING id`,
  );
  await db.query(
    `INSERT INTO service (slug, name) VALUES ('billing', 'Billing')`,
  );
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'ec2_cpu_utilization', $2::jsonb, $3)
     RETURNING id`,
    [
      service.rows[0]!.id,
      JSON.stringify({ instance: "825cc2", region: "us-east-1" }),
      '{"instance":"825cc2","region":"us-east-1"}',
    ],
  );
  const runbooks: Array<[string, string[], string | null, object]> = [
    ["generic-triage", [], null, {}],
    ["checkout-cpu", ["checkout"], "ec2_cpu_*", {}],
    ["cpu-saturation", [], "ec2_cpu_*", {}],
    ["billing-latency", ["billing"], null, {}],
    ["eu-cpu", [], "ec2_cpu_*", { region: "eu-west-1" }],
  ];
  for (const [slug, services, pattern, labels] of runbooks) {
    await db.query(
      `INSERT INTO runbook (slug, title, body, services, metric_pattern, labels)
       VALUES ($1, $2, 'Steps.', $3, $4, $5::jsonb)`,
      [slug, `Runbook ${slug}`, services, pattern, JSON.stringify(labels)],
    );
  }
  const seriesId = created.rows[0]!.id;
  await insertPoints(seriesId, points);
  return seriesId;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ count: string }>(sql, params);
  return Number(rows[0]!.count);
}

beforeAll(async () => {
  db = await connect();
  const end = new Date(Math.floor(Date.now() / STEP_MS) * STEP_MS);
  series = shiftToEnd(loadNabSeries(NAB_FILE), end);
});

afterAll(async () => {
  await db.end();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

describe("score-series job", () => {
  it("trains, scores and opens an incident", async () => {
    const seriesId = await seedSeries(series.points);

    const result = await runScoreSeries(db, seriesId, log);

    expect(result.status).toBe("scored");
    expect(result.trained).toBe(true);
    expect(result.opened.length).toBeGreaterThanOrEqual(1);
    expect(result.resolved).toEqual(result.opened);

    const models = await db.query(
      `SELECT version, status, kind, backend, code_version, point_count,
              window_size, octet_length(weights) AS weight_bytes, threshold,
              metrics, trained_from, trained_to
         FROM model_version WHERE series_id = $1`,
      [seriesId],
    );
    expect(models.rows).toHaveLength(1);
    const model = models.rows[0];
    expect(model.version).toBe(1);
    expect(model.status).toBe("active");
    expect(model.kind).toBe("dense-forecaster");
    expect(["wasm", "tensorflow", "cpu"]).toContain(model.backend);
    expect(model.code_version).toMatch(/^\d+\.\d+\.\d+/);
    // The first model trains on the oldest VIGIL_MIN_TRAINING_POINTS points.
    const trainingPoints = getConfig().VIGIL_MIN_TRAINING_POINTS;
    expect(model.point_count).toBe(trainingPoints);
    expect(model.window_size).toBe(DEFAULT_PARAMS.windowSize);
    expect(model.weight_bytes).toBeGreaterThan(1000);
    expect(model.threshold).toBeGreaterThan(0);
    expect(model.metrics.errorQuantiles.p99).toBeGreaterThan(0);
    expect(Number.isFinite(model.metrics.finalLoss)).toBe(true);
    expect(model.trained_from).toEqual(series.points[0]!.ts);
    expect(model.trained_to).toEqual(series.points[trainingPoints - 1]!.ts);

    const scored = series.points.length - trainingPoints;
    expect(result.scoredPoints).toBe(scored);
    expect(
      await count("SELECT count(*) FROM anomaly_score WHERE series_id = $1", [
        seriesId,
      ]),
    ).toBe(scored);
    const scoredUntil = await db.query(
      "SELECT scored_until FROM metric_series WHERE id = $1",
      [seriesId],
    );
    expect(scoredUntil.rows[0].scored_until).toEqual(series.points.at(-1)!.ts);

    const incidents = await db.query(
      `SELECT id, title, status, source, severity, opened_at, peak_score,
              summary, dedup_key, series_id, resolved_at
         FROM incident ORDER BY opened_at`,
    );
    expect(incidents.rows).toHaveLength(result.opened.length);
    // The incident of the labelled window; the detector may also raise a
    // false alarm elsewhere in the file.
    const window = series.windows[0]!;
    const windowLength = window.end.getTime() - window.start.getTime();
    const nearWindow = incidents.rows.filter(
      (row) =>
        row.opened_at.getTime() >= window.start.getTime() - windowLength &&
        row.opened_at.getTime() <= window.end.getTime() + windowLength,
    );
    expect(nearWindow.length).toBeGreaterThanOrEqual(1);
    const incident = nearWindow[0];
    expect(incident.title).toBe("Anomaly in ec2_cpu_utilization on Checkout");
    expect(incident.status).toBe("resolved");
    expect(incident.resolved_at.getTime()).toBeGreaterThan(
      incident.opened_at.getTime(),
    );
    expect(incident.source).toBe("detector");
    expect(incident.series_id).toBe(seriesId);
    // The alarm follows the likelihood, so the peak raw score of an
    // episode can stay below 1 when its errors are moderate but sustained.
    expect(incident.peak_score).toBeGreaterThan(0);
    expect(incident.summary).toMatch(/observed .* expected/);
    expect(incident.dedup_key).toBe(
      `detector:${seriesId}:${incident.opened_at.getTime()}`,
    );


    const runbooks = await db.query(
      `SELECT r.slug, ir.score, ir.reason
         FROM incident_runbook ir JOIN runbook r ON r.id = ir.runbook_id
        WHERE ir.incident_id = $1 ORDER BY ir.score DESC`,
      [incident.id],
    );
    expect(runbooks.rows.map((row) => row.slug)).toEqual([
      "checkout-cpu",
      "cpu-saturation",
      "generic-triage",
    ]);
    expect(runbooks.rows[0].reason).toBe(
      "service checkout, metric matches ec2_cpu_*",
    );

    const events = await db.query(
      `SELECT kind, actor_type, data FROM incident_event
        WHERE incident_id = $1 ORDER BY created_at, id`,
      [incident.id],
    );
    const kinds = events.rows.map((row) => row.kind);
    expect(kinds.slice(0, 2)).toEqual(["opened", "runbooks_suggested"]);
    expect(kinds.slice(2, -1).every((kind) => kind === "anomaly")).toBe(true);
    expect(kinds.at(-1)).toBe("resolved");
    expect(events.rows[0].actor_type).toBe("worker");
    expect(events.rows[0].data.onset.ts).toBe(incident.opened_at.toISOString());
    expect(events.rows[0].data.expectedRange).toHaveLength(2);
    expect(events.rows.at(-1).data.quietSince).toBe(
      incident.resolved_at.toISOString(),
    );
    expect(result.joined).toHaveLength(
      await count("SELECT count(*) FROM incident_event WHERE kind = 'anomaly'"),
    );
  });

  it("creates nothing new on a second run", async () => {
    const seriesId = await seedSeries(series.points);
    await runScoreSeries(db, seriesId, log);
    const tables = [
      "model_version",
      "anomaly_score",
      "incident",
      "incident_event",
      "incident_runbook",
    ];
    const countRows = async () => {
      const counts: number[] = [];
      for (const table of tables) {
        counts.push(await count(`SELECT count(*) FROM ${table}`));
      }
      return counts;
    };
    const before = await countRows();

    const again = await runScoreSeries(db, seriesId, log);

    expect(again.trained).toBe(false);
    expect(again.scoredPoints).toBe(0);
    expect(again.opened).toEqual([]);
    expect(await countRows()).toEqual(before);
  });

  it("opens each incident once when two runs race", async () => {
    const seriesId = await seedSeries(series.points);
    const first = await connect();
    const second = await connect();
    try {
      const results = await Promise.all([
        runScoreSeries(first, seriesId, log),
        runScoreSeries(second, seriesId, log),
      ]);

      // The series lock makes the later run wait and then find every
      // point scored.
      const opened = results.flatMap((result) => result.opened);
      expect(opened.length).toBeGreaterThanOrEqual(1);
      expect(results.filter((result) => result.opened.length > 0)).toHaveLength(
        1,
      );
      expect(results.filter((result) => result.trained)).toHaveLength(1);
      expect(await count("SELECT count(*) FROM incident")).toBe(opened.length);
      expect(
        await count(
          "SELECT count(*) FROM incident_event WHERE kind = 'opened'",
        ),
      ).toBe(opened.length);
    } finally {
      await first.end();
      await second.end();
    }

    expect(await count("SELECT count(*) FROM model_version")).toBe(1);
    expect(
      await count(
        `SELECT count(*) FROM (
           SELECT data->>'dedupKey' FROM incident_event
            WHERE kind IN ('opened', 'anomaly')
            GROUP BY 1 HAVING count(*) > 1) duplicated`,
      ),
    ).toBe(0);
    expect(
      await count("SELECT count(*) FROM anomaly_score WHERE series_id = $1", [
        seriesId,
      ]),
    ).toBe(series.points.length - getConfig().VIGIL_MIN_TRAINING_POINTS);
  });

  it("scores points that arrive after the first run", async () => {
    const split = 3000;
    const seriesId = await seedSeries(series.points.slice(0, split));
    const first = await runScoreSeries(db, seriesId, log);
    const earlyScores = await db.query(
      `SELECT ts, score FROM anomaly_score WHERE series_id = $1 ORDER BY ts`,
      [seriesId],
    );

    await insertPoints(seriesId, series.points.slice(split));
    const second = await runScoreSeries(db, seriesId, log);

    expect(first.trained).toBe(true);
    expect(second.trained).toBe(false);
    expect(second.modelVersionId).toBe(first.modelVersionId);
    expect(second.scoredPoints).toBe(series.points.length - split);
    const allScores = await db.query(
      `SELECT ts, score FROM anomaly_score WHERE series_id = $1 ORDER BY ts`,
      [seriesId],
    );
    expect(allScores.rows).toHaveLength(
      series.points.length - getConfig().VIGIL_MIN_TRAINING_POINTS,
    );
    expect(allScores.rows.slice(0, earlyScores.rows.length)).toEqual(
      earlyScores.rows,
    );
    expect(await count("SELECT count(*) FROM incident")).toBe(
      first.opened.length + second.opened.length,
    );
    expect(
      await count("SELECT count(*) FROM incident WHERE status <> 'resolved'"),
    ).toBeLessThanOrEqual(1);
  });

  it("scores in chunks like in one pass", async () => {
    const seriesId = await seedSeries(series.points);
    const whole = await runScoreSeries(db, seriesId, log);
    const readState = async () => ({
      scores: (
        await db.query(
          `SELECT ts, error, score, is_anomaly, expected_low, expected_high
             FROM anomaly_score ORDER BY ts`,
        )
      ).rows,
      incidents: (
        await db.query(
          `SELECT opened_at, peak_score, severity, summary, status, resolved_at
             FROM incident ORDER BY opened_at`,
        )
      ).rows,
      events: (
        await db.query(
          "SELECT kind, message FROM incident_event ORDER BY created_at, id",
        )
      ).rows,
    });
    const expected = await readState();

    await truncateAll(process.env.DATABASE_URL!);
    const chunkedId = await seedSeries(series.points);
    const chunked = await runScoreSeries(db, chunkedId, log, {
      chunkPoints: 700,
    });

    expect(chunked.scoredPoints).toBe(whole.scoredPoints);
    expect(chunked.opened).toHaveLength(whole.opened.length);
    expect(chunked.joined).toHaveLength(whole.joined.length);
    expect(chunked.resolved).toHaveLength(whole.resolved.length);
    const actual = await readState();
    expect(actual.scores).toEqual(expected.scores);
    expect(actual.incidents).toEqual(expected.incidents);
    expect(actual.events).toEqual(expected.events);
  });

  it("waits for enough history", async () => {
    const seriesId = await seedSeries(series.points.slice(0, 100));
    await db.query("UPDATE metric_series SET last_point_at = NULL");

    const result = await runScoreSeries(db, seriesId, log);

    expect(result.status).toBe("waiting_for_history");
    // Ingest leaves last_point_at to the worker, which sets it even here.
    const latest = await db.query("SELECT last_point_at FROM metric_series");
    expect(latest.rows[0].last_point_at).toEqual(series.points[99]!.ts);
    expect(await count("SELECT count(*) FROM model_version")).toBe(0);
    expect(await count("SELECT count(*) FROM anomaly_score")).toBe(0);
  });

  it("reports a missing series", async () => {
    const result = await runScoreSeries(db, 987654, log);

    expect(result.status).toBe("series_not_found");
  });
});

describe("enqueue-stale-series backstop", () => {
  it("enqueues series with unscored points", async () => {
    const seriesId = await seedSeries(series.points.slice(0, 600));

    const enqueued = await enqueueStaleSeries(db, 500);

    expect(enqueued).toEqual([seriesId]);
    expect(
      await count(
        `SELECT count(*) FROM graphile_worker.jobs
          WHERE task_identifier = 'score-series' AND key = $1`,
        [`score-series:${seriesId}`],
      ),
    ).toBe(1);
  });

  it("skips short and fully scored series", async () => {
    const seriesId = await seedSeries(series.points.slice(0, 600));

    expect(await enqueueStaleSeries(db, 601)).toEqual([]);
    await runScoreSeries(db, seriesId, log);
    expect(await enqueueStaleSeries(db, 500)).toEqual([]);
  });

  it("re-queues a job a dead worker holds", async () => {
    const seriesId = await seedSeries(series.points.slice(0, 600));
    expect(await enqueueStaleSeries(db, 500)).toEqual([seriesId]);
    // A worker that was killed leaves its lock behind.
    await db.query(
      `UPDATE graphile_worker._private_jobs
          SET locked_at = now() - interval '1 minute', locked_by = 'dead'
        WHERE key = $1`,
      [`score-series:${seriesId}`],
    );
    expect(await enqueueStaleSeries(db, 500)).toEqual([]);

    await db.query(
      `UPDATE graphile_worker._private_jobs
          SET locked_at = now() - make_interval(mins => $2 + 1)
        WHERE key = $1`,
      [`score-series:${seriesId}`, STALE_LOCK_MINUTES],
    );
    expect(await enqueueStaleSeries(db, 500)).toEqual([seriesId]);
    const { rows } = await db.query(
      `SELECT locked_by FROM graphile_worker._private_jobs
        WHERE key = $1`,
      [`score-series:${seriesId}`],
    );
    expect(rows).toEqual([{ locked_by: null }]);
  });

  it("keeps a failed job's attempt count", async () => {
    const seriesId = await seedSeries(series.points.slice(0, 600));
    expect(await enqueueStaleSeries(db, 500)).toEqual([seriesId]);
    // Mark the job as having used up its attempts, as a series whose
    // training always fails ends up.
    await db.query(
      `UPDATE graphile_worker._private_jobs
          SET attempts = max_attempts, last_error = 'training diverged'
        WHERE key = $1`,
      [`score-series:${seriesId}`],
    );

    expect(await enqueueStaleSeries(db, 500)).toEqual([]);
    const { rows } = await db.query<{ attempts: number; max_attempts: number }>(
      `SELECT attempts, max_attempts FROM graphile_worker._private_jobs
        WHERE key = $1`,
      [`score-series:${seriesId}`],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attempts).toBe(rows[0]!.max_attempts);
  });
});
