import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import {
  getChartOverlays,
  getSeriesChart,
  MAX_CHART_DEPLOYMENTS,
} from "@/lib/services/queries";
import { truncateAll } from "@/tests/support/database";

// The downsampled series and the deployment and incident overlays of the
// series charts, on hand-built rows in [FROM, TO).

const FROM = new Date("2026-11-01T00:00:00Z");
const TO = new Date("2026-11-01T01:00:00Z");
const MINUTE = 60_000;

const at = (minutes: number) => new Date(FROM.getTime() + minutes * MINUTE);

let serviceId: number;
let seriesId: number;

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const pool = getPool();
  const service = await pool.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('chart', 'Chart') RETURNING id`,
  );
  serviceId = service.rows[0]!.id;
  const series = await pool.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'latency_ms', '{}', '') RETURNING id`,
    [serviceId],
  );
  seriesId = series.rows[0]!.id;
});

afterAll(async () => {
  await closeDb();
});

async function insertPoints(values: number[]) {
  await getPool().query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, $2::timestamptz + make_interval(mins => (i - 1)::int), v
       FROM unnest($3::float8[]) WITH ORDINALITY AS t(v, i)`,
    [seriesId, FROM, values],
  );
}

async function insertModelVersion(): Promise<number> {
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms)
     VALUES ($1, 1, 'active', 'dense-forecaster', 'cpu', '0.1.0', 12,
             $2, $3, 500, '{}', '[]', '\\x00', '{}', '{}', 1, 10)
     RETURNING id`,
    [seriesId, at(-500), at(-1)],
  );
  return rows[0]!.id;
}

async function insertScore(
  modelVersionId: number,
  minute: number,
  score: number,
  expected: [number, number],
) {
  await getPool().query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly,
        likelihood, expected_low, expected_high)
     VALUES ($1, $2, $3, $4::float8, $4::float8, $4::float8 > 1, $5, $6, $7)`,
    [seriesId, at(minute), modelVersionId, score, score > 1 ? 0.999 : 0.5, ...expected],
  );
}

describe("getSeriesChart", () => {
  it("keeps each bucket's minimum and maximum with their times", async () => {
    // 60 one-minute points in 6 buckets of 10 minutes. Bucket 2 (minutes
    // 20-29) has a dip to -5 at minute 23 and a spike to 40 at minute 27.
    const values = Array.from({ length: 60 }, () => 10);
    values[23] = -5;
    values[27] = 40;
    await insertPoints(values);

    const buckets = await getSeriesChart(seriesId, FROM, TO, 6);
    expect(buckets).toHaveLength(6);
    const dipBucket = buckets[2]!;
    expect(dipBucket.ts).toBe(at(20).getTime());
    expect(dipBucket.pointCount).toBe(10);
    expect(dipBucket.minValue).toBe(-5);
    expect(dipBucket.minTs).toBe(at(23).getTime());
    expect(dipBucket.maxValue).toBe(40);
    expect(dipBucket.maxTs).toBe(at(27).getTime());
    // (8 × 10 - 5 + 40) / 10
    expect(dipBucket.value).toBeCloseTo(11.5, 10);
    expect(dipBucket.anomalyTs).toBeNull();
  });

  it("averages values near the float8 maximum", async () => {
    await insertPoints([1.7e308, 1.7e308, -1.7e308, 1.7e308]);
    const [only] = await getSeriesChart(seriesId, FROM, at(4), 1);
    expect(only!.pointCount).toBe(4);
    expect(only!.value).toBeCloseTo(0.85e308, -300);
    expect(Number.isFinite(only!.value)).toBe(true);
    expect(only!.minValue).toBe(-1.7e308);
    expect(only!.maxValue).toBe(1.7e308);
  });

  it("takes the earliest point on a tie", async () => {
    await insertPoints(Array.from({ length: 10 }, () => 3));
    const [only] = await getSeriesChart(seriesId, FROM, at(10), 1);
    expect(only!.minTs).toBe(FROM.getTime());
    expect(only!.maxTs).toBe(FROM.getTime());
  });

  it("keeps the most anomalous point and the band's union", async () => {
    await insertPoints([10, 11, 30, 12, 25, 10, 10, 10, 10, 10]);
    const modelVersionId = await insertModelVersion();
    await insertScore(modelVersionId, 1, 0.4, [9, 13]);
    await insertScore(modelVersionId, 2, 3.5, [8, 14]);
    await insertScore(modelVersionId, 4, 2.0, [10, 15]);

    const [only] = await getSeriesChart(seriesId, FROM, at(10), 1);
    expect(only!.isAnomaly).toBe(true);
    expect(only!.anomalyTs).toBe(at(2).getTime());
    expect(only!.value).toBe(30);
    expect(only!.score).toBe(3.5);
    expect(only!.expectedLow).toBe(8);
    expect(only!.expectedHigh).toBe(15);
  });
});

describe("getChartOverlays", () => {
  async function addIncident(
    id: string,
    openedAt: Date,
    resolvedAt: Date | null,
    severity = "sev3",
  ) {
    await getPool().query(
      `INSERT INTO incident (service_id, title, status, severity, source,
         dedup_key, opened_at, resolved_at)
       VALUES ($1, $2, $3, $4, 'manual', $2, $5, $6)`,
      [serviceId, id, resolvedAt ? "resolved" : "triggered", severity, openedAt, resolvedAt],
    );
  }

  it("loads deployments in the range, oldest first", async () => {
    await getPool().query(
      `INSERT INTO deployment (service_id, version, deployed_at)
       VALUES ($1, 'before', $2), ($1, 'first', $3), ($1, 'second', $4),
              ($1, 'at-end', $5)`,
      [serviceId, at(-1), FROM, at(30), TO],
    );
    const overlays = await getChartOverlays(serviceId, FROM, TO);
    expect(overlays.deployments.map((d) => d.version)).toEqual(["first", "second"]);
    expect(overlays.deployments[0]!.deployedAt).toBe(FROM.getTime());
    expect(overlays.truncated).toBe(false);
  });

  it("loads incidents that overlap the range", async () => {
    await addIncident("resolved-before", at(-30), at(-1));
    await addIncident("straddles-start", at(-30), at(5), "sev1");
    await addIncident("inside", at(10), at(20));
    await addIncident("still-open", at(-600), null, "sev2");
    await addIncident("opens-at-end", TO, null);
    const overlays = await getChartOverlays(serviceId, FROM, TO);
    expect(overlays.incidents.map((incident) => incident.title)).toEqual([
      "still-open",
      "straddles-start",
      "inside",
    ]);
    const open = overlays.incidents[0]!;
    expect(open.resolvedAt).toBeNull();
    expect(open.severity).toBe("sev2");
    expect(open.status).toBe("triggered");
  });

  it("keeps the newest deployments past the limit", async () => {
    await getPool().query(
      `INSERT INTO deployment (service_id, version, deployed_at)
       SELECT $1, 'v' || i, $2::timestamptz + make_interval(secs => i)
         FROM generate_series(1, $3::int) AS i`,
      [serviceId, FROM, MAX_CHART_DEPLOYMENTS + 5],
    );
    const overlays = await getChartOverlays(serviceId, FROM, TO);
    expect(overlays.truncated).toBe(true);
    expect(overlays.deployments).toHaveLength(MAX_CHART_DEPLOYMENTS);
    expect(overlays.deployments[0]!.version).toBe("v6");
    expect(overlays.deployments.at(-1)!.version).toBe(`v${MAX_CHART_DEPLOYMENTS + 5}`);
  });
});
