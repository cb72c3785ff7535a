import type { IncidentStatus } from "@/lib/generated/prisma/enums";

// Time to acknowledge and time to resolve of one incident, read from its
// timeline. The MTTA and MTTR KPIs (lib/kpi/queries.ts) compute the same
// definitions in SQL over many incidents:
//
// - A trigger is the incident opening (at opened_at) or a "reopened" event.
//   It starts a cycle that lasts until the next trigger.
// - The acknowledgement of a cycle is its first "acknowledged" event. Its
//   time to acknowledge is that event's time minus the trigger's time, at
//   least 0. A cycle resolved without an acknowledgement, such as one the
//   detector resolved by itself, has none and does not count.
// - Time to resolve is resolved_at - opened_at, only while the incident is
//   resolved. Reopening clears resolved_at, so a reopened incident counts
//   as never resolved until its last resolution, which is then measured
//   from the original opening.

export type TimelineEntry = { kind: string; createdAt: Date; actorName: string };

export type TriggerCycle = {
  /** "opened" or "reopened". */
  trigger: string;
  triggeredAt: Date;
  triggeredBy: string | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  /** acknowledgedAt - triggeredAt in ms, at least 0; null without acknowledgement. */
  timeToAcknowledgeMs: number | null;
};

export type IncidentTimings = {
  cycles: TriggerCycle[];
  /** Mean time to acknowledge over the acknowledged cycles; null when none was. */
  timeToAcknowledgeMs: number | null;
  /** resolved_at - opened_at while resolved; null otherwise. */
  timeToResolveMs: number | null;
  reopenCount: number;
};

/** Computes an incident's cycles and times from its timeline, oldest event first or in any order. */
export function computeIncidentTimings(
  incident: { status: IncidentStatus; openedAt: Date; resolvedAt: Date | null },
  events: TimelineEntry[],
): IncidentTimings {
  const ordered = [...events].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime(),
  );
  const opened = ordered.find((event) => event.kind === "opened");
  const triggers = [
    {
      trigger: "opened",
      at: incident.openedAt,
      by: opened?.actorName ?? null,
    },
    ...ordered
      .filter((event) => event.kind === "reopened")
      .map((event) => ({
        trigger: "reopened",
        at: event.createdAt,
        by: event.actorName,
      })),
  ];
  const acknowledgements = ordered.filter(
    (event) => event.kind === "acknowledged",
  );

  const cycles = triggers.map((trigger, index): TriggerCycle => {
    const next = triggers[index + 1]?.at.getTime() ?? Infinity;
    // The first cycle takes an acknowledgement stamped before opened_at too:
    // opened_at is the data time of the onset, which may lag the clock
    // that stamps events.
    const start = index === 0 ? -Infinity : trigger.at.getTime();
    const acknowledgement = acknowledgements.find((event) => {
      const time = event.createdAt.getTime();
      return time >= start && time < next;
    });
    return {
      trigger: trigger.trigger,
      triggeredAt: trigger.at,
      triggeredBy: trigger.by,
      acknowledgedAt: acknowledgement?.createdAt ?? null,
      acknowledgedBy: acknowledgement?.actorName ?? null,
      timeToAcknowledgeMs: acknowledgement
        ? Math.max(0, acknowledgement.createdAt.getTime() - trigger.at.getTime())
        : null,
    };
  });

  const acknowledged = cycles
    .map((cycle) => cycle.timeToAcknowledgeMs)
    .filter((ms): ms is number => ms !== null);
  const timeToAcknowledgeMs =
    acknowledged.length === 0
      ? null
      : acknowledged.reduce((sum, ms) => sum + ms, 0) / acknowledged.length;
  const timeToResolveMs =
    incident.status === "resolved" && incident.resolvedAt
      ? incident.resolvedAt.getTime() - incident.openedAt.getTime()
      : null;

  return {
    cycles,
    timeToAcknowledgeMs,
    timeToResolveMs,
    reopenCount: triggers.length - 1,
  };
}
