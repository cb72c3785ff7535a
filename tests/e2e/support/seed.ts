import { createHash } from "node:crypto";

import { getPool, getPrisma } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";

// Hand-built data for the browser tests: three services, 5-minute series
// for the last eight days, deployments, runbooks and incidents in every
// status, placed relative to `now` so that each of the five KPIs has a value
// over the default 7-day range. Values are deterministic (sums of sines),
// so every run draws the same charts.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const HISTORY_MS = 8 * DAY_MS;

export type SeededIncidents = {
  /** Triggered checkout latency incident that the main test acknowledges and resolves. */
  latency: number;
  /** Triggered incident the viewer test must leave untouched. */
  viewerTarget: number;
  /** Triggered incident that two users acknowledge one after the other. */
  race: number;
};

const RUNBOOKS = [
  {
    slug: "http-latency",
    title: "High latency on an HTTP service",
    metricPattern: "latency_*",
    body: [
      "## Check first",
      "1. Compare p99 latency with request volume: a traffic surge points to capacity.",
      "2. Look for a deployment in the last hour and roll it back if latency rose with it.",
      "",
      "## Commands",
      "```sh",
      "kubectl -n checkout top pods",
      "```",
      "",
      "| Signal | Likely cause |",
      "| --- | --- |",
      "| CPU above 80 % | saturation |",
      "| DB wait time up | slow queries |",
    ].join("\n"),
  },
  {
    slug: "error-rate-after-deploy",
    title: "Elevated error rate after a deployment",
    metricPattern: "http_errors_*",
    body: "Roll back the newest deployment, then read the error logs of the new version.",
  },
  {
    slug: "queue-backlog",
    title: "Queue backlog growing",
    metricPattern: "queue_*",
    body: "Scale the consumers out and check for poison messages at the head of the queue.",
  },
];

/** Inserts 5-minute points from now - 8 days to now; `expression` uses e, the epoch seconds. */
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

function series(serviceId: number, name: string, labels: Record<string, string> = {}) {
  const labelsKey = JSON.stringify(
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))),
  );
  return getPrisma().metricSeries.create({
    data: { serviceId, name, labels, labelsKey },
    select: { id: true },
  });
}

type EventSeed = Omit<Prisma.IncidentEventCreateManyInput, "incidentId">;

async function createIncident(
  data: Omit<Prisma.IncidentUncheckedCreateInput, "events" | "runbooks">,
  events: EventSeed[],
  runbooks: { runbookId: number; score: number; reason: string }[] = [],
) {
  const incident = await getPrisma().incident.create({ data, select: { id: true } });
  await getPrisma().incidentEvent.createMany({
    data: events.map((event) => ({ ...event, incidentId: incident.id })),
  });
  await getPrisma().incidentRunbook.createMany({
    data: runbooks.map((runbook) => ({ ...runbook, incidentId: incident.id })),
  });
  return incident.id;
}

export async function seedE2eData(
  now: Date,
  users: { adminId: number; adminName: string; responderId: number; responderName: string },
): Promise<SeededIncidents> {
  const prisma = getPrisma();
  const at = (offsetMs: number) => new Date(now.getTime() - offsetMs);

  const checkout = await prisma.service.create({
    data: {
      slug: "checkout",
      name: "Checkout API",
      description: "Cart, payment and order confirmation endpoints.",
      requestMetric: "http_requests_total",
      errorMetric: "http_errors_total",
    },
  });
  const search = await prisma.service.create({
    data: { slug: "search", name: "Search", description: "Product search and suggestions." },
  });
  const payments = await prisma.service.create({
    data: { slug: "payments", name: "Payments worker", description: "Settles card payments." },
  });

  // Onset of the latency incident, two hours ago, as epoch seconds for SQL.
  const onsetSeconds = at(2 * HOUR_MS).getTime() / 1000;
  const latencyBaseline = "180 + 25 * sin(e / 13751) + 6 * sin(e / 311)";
  // exp() of float8 raises an underflow error below about -745, hence the clamp.
  const latencySpike = `600 * exp(greatest(-50, -power((e - ${onsetSeconds} - 1200) / 1500.0, 2)))`;

  const requests = await series(checkout.id, "http_requests_total");
  const errors = await series(checkout.id, "http_errors_total");
  const latency = await series(checkout.id, "latency_p99_ms", { route: "/pay" });
  const searchLatency = await series(search.id, "latency_p99_ms", { route: "/search" });
  const queue = await series(payments.id, "queue_depth");

  const requestExpression = "round(1200 + 400 * sin(e / 13751) + 40 * sin(e / 97))";
  await insertPoints(requests.id, now, requestExpression);
  await insertPoints(errors.id, now, `round((${requestExpression}) * (0.004 + 0.002 * sin(e / 701)))`);
  await insertPoints(latency.id, now, `${latencyBaseline} + ${latencySpike}`);
  await insertPoints(searchLatency.id, now, "60 + 8 * sin(e / 13751) + 3 * sin(e / 173)");
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

  const deploymentOffsetsHours = [2.5, 20, 30, 44, 70, 95, 120, 140, 160];
  await prisma.deployment.createMany({
    data: deploymentOffsetsHours.map((hours, index) => ({
      serviceId: index % 3 === 2 ? search.id : checkout.id,
      version: `v2.${40 + index}.0`,
      deployedAt: at(hours * HOUR_MS),
      status: index === 4 ? "failed" : "success",
      commitSha: createHash("sha1").update(`e2e-deploy-${index}`).digest("hex"),
      description: index === 0 ? "Switch payment client to connection pooling" : null,
    })),
  });

  const runbooks = [];
  for (const runbook of RUNBOOKS) {
    runbooks.push(await prisma.runbook.create({ data: runbook }));
  }
  const [httpLatency, errorRate, queueBacklog] = runbooks as [
    (typeof runbooks)[number],
    (typeof runbooks)[number],
    (typeof runbooks)[number],
  ];

  const detector = { actorType: "worker" as const, actorName: "detector" };
  const admin = { actorType: "user" as const, actorId: users.adminId, actorName: users.adminName };
  const responder = {
    actorType: "user" as const,
    actorId: users.responderId,
    actorName: users.responderName,
  };

  const latencyIncident = await createIncident(
    {
      serviceId: checkout.id,
      seriesId: latency.id,
      title: "Checkout p99 latency above expected range",
      severity: "sev2",
      source: "detector",
      dedupKey: `e2e:latency:${onsetSeconds}`,
      summary: "latency_p99_ms{route=/pay} rose far above the range the model expected.",
      peakScore: 13.2,
      openedAt: at(2 * HOUR_MS),
    },
    [
      { ...detector, kind: "opened", message: "Anomaly score crossed the threshold", createdAt: at(2 * HOUR_MS) },
      { ...detector, kind: "runbooks_suggested", message: "Suggested 2 runbooks", createdAt: at(2 * HOUR_MS) },
    ],
    [
      { runbookId: httpLatency.id, score: 0.9, reason: "metric latency_p99_ms matches latency_*" },
      { runbookId: errorRate.id, score: 0.35, reason: "same service as a recent deployment" },
    ],
  );

  const triggered = (title: string, dedupKey: string, hoursAgo: number) =>
    createIncident(
      {
        serviceId: checkout.id,
        title,
        severity: "sev4",
        source: "alert",
        serviceImpacting: false,
        dedupKey,
        openedAt: at(hoursAgo * HOUR_MS),
      },
      [{ ...detector, kind: "opened", message: "Alert fired", createdAt: at(hoursAgo * HOUR_MS) }],
    );
  const viewerTarget = await triggered("Checkout cache hit ratio below expected range", "e2e:cache", 5);
  const race = await triggered("Checkout connection pool nearly exhausted", "e2e:pool", 4);

  const resolvedIncident = async (
    title: string,
    serviceId: number,
    openedHoursAgo: number,
    acknowledgeAfterMinutes: number,
    resolveAfterMinutes: number,
  ) => {
    const openedAt = at(openedHoursAgo * HOUR_MS);
    const acknowledgedAt = new Date(openedAt.getTime() + acknowledgeAfterMinutes * MINUTE_MS);
    const resolvedAt = new Date(openedAt.getTime() + resolveAfterMinutes * MINUTE_MS);
    await createIncident(
      {
        serviceId,
        title,
        status: "resolved",
        severity: "sev3",
        source: "detector",
        dedupKey: `e2e:${title}`,
        openedAt,
        acknowledgedAt,
        acknowledgedById: users.responderId,
        resolvedAt,
        resolvedById: users.adminId,
      },
      [
        { ...detector, kind: "opened", message: "Anomaly score crossed the threshold", createdAt: openedAt },
        { ...responder, kind: "acknowledged", message: `${users.responderName} acknowledged the incident`, createdAt: acknowledgedAt },
        { ...admin, kind: "resolved", message: `${users.adminName} resolved the incident`, createdAt: resolvedAt },
      ],
    );
  };
  await resolvedIncident("Search latency spike", search.id, 72, 6, 45);
  await resolvedIncident("Checkout error rate elevated", checkout.id, 120, 4, 80);
  await resolvedIncident("Checkout latency regression after deploy", checkout.id, 20 * 24, 10, 150);

  await createIncident(
    {
      serviceId: payments.id,
      seriesId: queue.id,
      title: "Payments queue depth growing",
      status: "acknowledged",
      severity: "sev3",
      source: "detector",
      dedupKey: "e2e:queue",
      openedAt: at(26 * HOUR_MS),
      acknowledgedAt: at(25 * HOUR_MS),
      acknowledgedById: users.responderId,
    },
    [
      { ...detector, kind: "opened", message: "Anomaly score crossed the threshold", createdAt: at(26 * HOUR_MS) },
      { ...responder, kind: "acknowledged", message: `${users.responderName} acknowledged the incident`, createdAt: at(25 * HOUR_MS) },
    ],
    [{ runbookId: queueBacklog.id, score: 0.8, reason: "metric queue_depth matches queue_*" }],
  );

  return { latency: latencyIncident, viewerTarget, race };
}
