import { createHash } from "node:crypto";

import { getPrisma } from "@/lib/db";

import { seedIncidents, type SeededIncidents } from "./seed-incidents";
import { seedTelemetry } from "./seed-telemetry";
import { HOUR_MS } from "./seed-time";

// Hand-built data for the browser tests: three services, 5-minute series
// for the last eight days, deployments, runbooks and incidents in every
// status. Times are relative to `now`, so each of the five KPIs has a value
// over the default 7-day range. Values are sums of sines, so every run
// draws the same charts.

export type { SeededIncidents };

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

export async function seedE2eData(
  now: Date,
  users: {
    adminId: number;
    adminName: string;
    responderId: number;
    responderName: string;
  },
): Promise<SeededIncidents> {
  const prisma = getPrisma();
  const at = (offsetMs: number) => new Date(now.getTime() - offsetMs);
  const onset = at(2 * HOUR_MS);

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
    data: {
      slug: "search",
      name: "Search",
      description: "Product search and suggestions.",
    },
  });
  const payments = await prisma.service.create({
    data: {
      slug: "payments",
      name: "Payments worker",
      description: "Settles card payments.",
    },
  });

  const series = await seedTelemetry(now, onset, {
    checkout: checkout.id,
    search: search.id,
    payments: payments.id,
  });

  const deploymentOffsetsHours = [2.5, 20, 30, 44, 70, 95, 120, 140, 160];
  await prisma.deployment.createMany({
    data: deploymentOffsetsHours.map((hours, index) => ({
      serviceId: index % 3 === 2 ? search.id : checkout.id,
      version: `v2.${40 + index}.0`,
      deployedAt: at(hours * HOUR_MS),
      status: index === 4 ? "failed" : "success",
      commitSha: createHash("sha1").update(`e2e-deploy-${index}`).digest("hex"),
      description:
        index === 0 ? "Switch payment client to connection pooling" : null,
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

  return seedIncidents({
    now,
    onset,
    services: {
      checkout: checkout.id,
      search: search.id,
      payments: payments.id,
    },
    series,
    runbooks: {
      httpLatency: httpLatency.id,
      errorRate: errorRate.id,
      queueBacklog: queueBacklog.id,
    },
    users,
  });
}
