import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { enqueueScoringRequest } from "@/lib/queue";
import { truncateAll } from "@/tests/support/database";
import { loadNabSeries, shiftToEnd } from "@/tests/support/nab";
import { startWorker } from "@/workers/main";

// The real graphile-worker runner: a queued score-series job is picked up,
// the series gets scored, and stop() shuts the runner down.

const NAB_FILE = "realAWSCloudwatch/ec2_network_in_257a54.csv";

let db: pg.Client;

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  await db.end();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe("worker runner", () => {
  it("runs a queued score-series job", async () => {
    const series = shiftToEnd(loadNabSeries(NAB_FILE), new Date());
    const service = await db.query<{ id: number }>(
      `INSERT INTO service (slug, name) VALUES ('edge', 'Edge') RETURNING id`,
    );
    const created = await db.query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'ec2_network_in', '{}', '{}') RETURNING id`,
      [service.rows[0]!.id],
    );
    const seriesId = created.rows[0]!.id;
    await db.query(
      `INSERT INTO data_point (series_id, ts, value)
       SELECT $1, p.ts, p.value
         FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)`,
      [
        seriesId,
        series.points.map((point) => point.ts),
        series.points.map((point) => point.value),
      ],
    );
    await db.query(
      "UPDATE metric_series SET last_point_at = $2 WHERE id = $1",
      [seriesId, series.points.at(-1)!.ts],
    );
    // The job an ingest request adds, which the worker splits per series.
    await enqueueScoringRequest(db, [seriesId]);

    const worker = await startWorker({
      connectionString: process.env.DATABASE_URL,
      concurrency: 1,
      pollIntervalMs: 200,
    });
    try {
      const scoredUntil = await waitFor(async () => {
        const { rows } = await db.query(
          "SELECT scored_until FROM metric_series WHERE id = $1",
          [seriesId],
        );
        return rows[0].scored_until ?? undefined;
      }, 60_000);
      expect(scoredUntil).toEqual(series.points.at(-1)!.ts);
    } finally {
      await worker.stop();
    }
    await worker.promise;

    const jobs = await db.query(
      "SELECT count(*)::int AS count FROM graphile_worker.jobs WHERE task_identifier = 'score-series'",
    );
    expect(jobs.rows[0].count).toBe(0);
    const incidents = await db.query(
      "SELECT opened_at FROM incident WHERE series_id = $1",
      [seriesId],
    );
    // The detector may also raise false alarms elsewhere in the file; the
    // worker must at least open one incident inside the labelled window.
    const window = series.windows[0]!;
    const inWindow = incidents.rows.filter(
      (row) =>
        row.opened_at.getTime() >= window.start.getTime() &&
        row.opened_at.getTime() <= window.end.getTime(),
    );
    expect(inWindow).toHaveLength(1);
  });
});
