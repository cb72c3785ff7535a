import { getPool, getPrisma } from "@/lib/db";

import { DAY_MS, HISTORY_MS, HOUR_MS } from "./seed-time";

// Metric series for the browser tests: 5-minute points for the last eight
// days, written with generate_series, and anomaly scores with an expected
// band for the checkout latency series around its incident.

export type SeededSeries = { latency: number; queue: number };

/**
 * Inserts 5-minute points from now - 8 days to now. The SQL `expression`
 * computes each value and can use e, the point's epoch seconds.
 */
async function insertPoints(seriesId: number, now: Date, expression: string) {
  await getPool().query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, ts, ${expression}
       FROM generate_series($2::timestamptz, $3::timestamptz, interval '5 minutes') AS ts,
            LATERAL (SELECT extract(epoch FROM ts)::float8 AS e) AS t`,
    [seriesId, new Date(now.getTime() - HISTORY_MS), now],
  );
  // Marking the series as scored up to its last point keeps the worker's
  // stale-series sweep from training on this hand-built history.
  await getPool().query(
    `UPDATE metric_series SET last_point_at = (SELECT max(ts) FROM data_point WHERE series_id = $1),
                              scored_until = (SELECT max(ts) FROM data_point WHERE series_id = $1)
      WHERE id = $1`,
    [seriesId],
  );
}

function series(
  serviceId: number,
  name: string,
  labels: Record<string, string> = {},
) {
  const labelsKey = JSON.stringify(
    Object.fromEntries(
      Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)),
    ),
  );
  return getPrisma().metricSeries.create({
    data: { serviceId, name, labels, labelsKey },
    select: { id: true },
  });
}

/**
 * Creates the series of the three services and their points. The checkout
 * latency series spikes 20 minutes after `onset`, and its last 12 hours are
 * scored by a hand-built model version.
 */
export async function seedTelemetry(
  now: Date,
  onset: Date,
  services: { checkout: number; search: number; payments: number },
): Promise<SeededSeries> {
  const prisma = getPrisma();
  const at = (offsetMs: number) => new Date(now.getTime() - offsetMs);
  const { checkout, search, payments } = services;

  const onsetSeconds = onset.getTime() / 1000;
  const latencyBaseline = "180 + 25 * sin(e / 13751) + 6 * sin(e / 311)";
  // exp() of float8 raises an underflow error below about -745, hence the clamp.
  const latencySpike = `600 * exp(greatest(-50, -power((e - ${onsetSeconds} - 1200) / 1500.0, 2)))`;

  const requests = await series(checkout, "http_requests_total");
  const errors = await series(checkout, "http_errors_total");
  const latency = await series(checkout, "latency_p99_ms", {
    route: "/pay",
  });
  const searchLatency = await series(search, "latency_p99_ms", {
    route: "/search",
  });
  const queue = await series(payments, "queue_depth");

  const requestExpression =
    "round(1200 + 400 * sin(e / 13751) + 40 * sin(e / 97))";
  await insertPoints(requests.id, now, requestExpression);
  await insertPoints(
    errors.id,
    now,
    `round((${requestExpression}) * (0.004 + 0.002 * sin(e / 701)))`,
  );
  await insertPoints(latency.id, now, `${latencyBaseline} + ${latencySpike}`);
  await insertPoints(
    searchLatency.id,
    now,
    "60 + 8 * sin(e / 13751) + 3 * sin(e / 173)",
  );
  await insertPoints(queue.id, now, "greatest(0, 40 + 30 * sin(e / 5003))");

  // A hand-built model version and scores for the checkout latency series over
  // the last 12 hours: the expected band is the baseline plus or minus 45 ms.
  const model = await prisma.modelVersion.create({
    data: {
      seriesId: latency.id,
      version: 1,
      status: "retired",
      kind: "fixture",
      backend: "none",
      codeVersion: "e2e-seed",
      windowSize: 24,
      trainedFrom: at(HISTORY_MS),
      trainedTo: at(DAY_MS),
      pointCount: 2016,
      topology: {},
      weightSpecs: [],
      weights: new Uint8Array(),
      normalization: { mean: 180, std: 20 },
      metrics: { note: "hand-built for browser tests" },
      threshold: 1,
      trainingMs: 1500,
      createdAt: at(DAY_MS),
    },
  });
  await getPool().query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly, expected_low, expected_high)
     SELECT series_id, ts, $2, abs(value - expected) / 45, abs(value - expected) / 45,
            abs(value - expected) > 45, expected - 45, expected + 45
       FROM data_point,
            LATERAL (SELECT extract(epoch FROM ts)::float8 AS e) AS t,
            LATERAL (SELECT ${latencyBaseline} AS expected) AS x
      WHERE series_id = $1 AND ts >= $3`,
    [latency.id, model.id, at(12 * HOUR_MS)],
  );

  return { latency: latency.id, queue: queue.id };
}
