import { getPrisma } from "@/lib/db";
import type { Prisma } from "@/lib/generated/prisma/client";

import { HOUR_MS, MINUTE_MS } from "./seed-time";

// Incidents for the browser tests in every status, with timeline events and
// runbook suggestions, placed relative to `now`.

export type SeededIncidents = {
  /** Triggered checkout latency incident that the main test acknowledges and resolves. */
  latency: number;
  /** Triggered incident the viewer test must leave untouched. */
  viewerTarget: number;
  /** Triggered incident that two users acknowledge one after the other. */
  race: number;
};

export type IncidentSeedContext = {
  now: Date;
  /** Onset of the checkout latency incident. */
  onset: Date;
  services: { checkout: number; search: number; payments: number };
  series: { latency: number; queue: number };
  runbooks: { httpLatency: number; errorRate: number; queueBacklog: number };
  users: {
    adminId: number;
    adminName: string;
    responderId: number;
    responderName: string;
  };
};

type EventSeed = Omit<Prisma.IncidentEventCreateManyInput, "incidentId">;

async function createIncident(
  data: Omit<Prisma.IncidentUncheckedCreateInput, "events" | "runbooks">,
  events: EventSeed[],
  runbooks: { runbookId: number; score: number; reason: string }[] = [],
) {
  const incident = await getPrisma().incident.create({
    data,
    select: { id: true },
  });
  await getPrisma().incidentEvent.createMany({
    data: events.map((event) => ({ ...event, incidentId: incident.id })),
  });
  await getPrisma().incidentRunbook.createMany({
    data: runbooks.map((runbook) => ({ ...runbook, incidentId: incident.id })),
  });
  return incident.id;
}

export async function seedIncidents(
  context: IncidentSeedContext,
): Promise<SeededIncidents> {
  const { now, users } = context;
  const at = (offsetMs: number) => new Date(now.getTime() - offsetMs);
  const { checkout, search, payments } = context.services;
  const { latency, queue } = context.series;
  const { httpLatency, errorRate, queueBacklog } = context.runbooks;
  const onsetSeconds = context.onset.getTime() / 1000;

  const detector = { actorType: "worker" as const, actorName: "detector" };
  const admin = {
    actorType: "user" as const,
    actorId: users.adminId,
    actorName: users.adminName,
  };
  const responder = {
    actorType: "user" as const,
    actorId: users.responderId,
    actorName: users.responderName,
  };

  const latencyIncident = await createIncident(
    {
      serviceId: checkout,
      seriesId: latency,
      title: "Checkout p99 latency above expected range",
      severity: "sev2",
      source: "detector",
      dedupKey: `e2e:latency:${onsetSeconds}`,
      summary:
        "latency_p99_ms{route=/pay} rose far above the range the model expected.",
      peakScore: 13.2,
      openedAt: context.onset,
    },
    [
      {
        ...detector,
        kind: "opened",
        message: "Anomaly score crossed the threshold",
        createdAt: context.onset,
      },
      {
        ...detector,
        kind: "runbooks_suggested",
        message: "Suggested 2 runbooks",
        createdAt: context.onset,
      },
    ],
    [
      {
        runbookId: httpLatency,
        score: 0.9,
        reason: "metric latency_p99_ms matches latency_*",
      },
      {
        runbookId: errorRate,
        score: 0.35,
        reason: "same service as a recent deployment",
      },
    ],
  );

  const triggered = (title: string, dedupKey: string, hoursAgo: number) =>
    createIncident(
      {
        serviceId: checkout,
        title,
        severity: "sev4",
        source: "alert",
        serviceImpacting: false,
        dedupKey,
        openedAt: at(hoursAgo * HOUR_MS),
      },
      [
        {
          ...detector,
          kind: "opened",
          message: "Alert fired",
          createdAt: at(hoursAgo * HOUR_MS),
        },
      ],
    );
  const viewerTarget = await triggered(
    "Checkout cache hit ratio below expected range",
    "e2e:cache",
    5,
  );
  const race = await triggered(
    "Checkout connection pool nearly exhausted",
    "e2e:pool",
    4,
  );

  const resolvedIncident = async (
    title: string,
    serviceId: number,
    openedHoursAgo: number,
    acknowledgeAfterMinutes: number,
    resolveAfterMinutes: number,
  ) => {
    const openedAt = at(openedHoursAgo * HOUR_MS);
    const acknowledgedAt = new Date(
      openedAt.getTime() + acknowledgeAfterMinutes * MINUTE_MS,
    );
    const resolvedAt = new Date(
      openedAt.getTime() + resolveAfterMinutes * MINUTE_MS,
    );
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
        {
          ...detector,
          kind: "opened",
          message: "Anomaly score crossed the threshold",
          createdAt: openedAt,
        },
        {
          ...responder,
          kind: "acknowledged",
          message: `${users.responderName} acknowledged the incident`,
          createdAt: acknowledgedAt,
        },
        {
          ...admin,
          kind: "resolved",
          message: `${users.adminName} resolved the incident`,
          createdAt: resolvedAt,
        },
      ],
    );
  };
  await resolvedIncident("Search latency spike", search, 72, 6, 45);
  await resolvedIncident("Checkout error rate elevated", checkout, 120, 4, 80);
  await resolvedIncident(
    "Checkout latency regression after deploy",
    checkout,
    20 * 24,
    10,
    150,
  );

  await createIncident(
    {
      serviceId: payments,
      seriesId: queue,
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
      {
        ...detector,
        kind: "opened",
        message: "Anomaly score crossed the threshold",
        createdAt: at(26 * HOUR_MS),
      },
      {
        ...responder,
        kind: "acknowledged",
        message: `${users.responderName} acknowledged the incident`,
        createdAt: at(25 * HOUR_MS),
      },
    ],
    [
      {
        runbookId: queueBacklog,
        score: 0.8,
        reason: "metric queue_depth matches queue_*",
      },
    ],
  );

  return { latency: latencyIncident, viewerTarget, race };
}
