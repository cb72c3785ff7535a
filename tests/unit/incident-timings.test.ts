import { describe, expect, it } from "vitest";

import { computeIncidentTimings } from "@/lib/incidents/timings";

const t = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));
const event = (kind: string, minute: number, actorName = "Alice") => ({
  kind,
  createdAt: t(minute),
  actorName,
});

describe("computeIncidentTimings", () => {
  it("measures one acknowledged cycle", () => {
    const timings = computeIncidentTimings(
      { status: "resolved", openedAt: t(0), resolvedAt: t(30) },
      [event("opened", 0, "anomaly detector"), event("acknowledged", 4), event("resolved", 30)],
    );

    expect(timings.cycles).toEqual([
      {
        trigger: "opened",
        triggeredAt: t(0),
        triggeredBy: "anomaly detector",
        acknowledgedAt: t(4),
        acknowledgedBy: "Alice",
        timeToAcknowledgeMs: 4 * 60_000,
      },
    ]);
    expect(timings.timeToAcknowledgeMs).toBe(4 * 60_000);
    expect(timings.timeToResolveMs).toBe(30 * 60_000);
    expect(timings.reopenCount).toBe(0);
  });

  it("averages cycles of a reopened incident", () => {
    const timings = computeIncidentTimings(
      { status: "resolved", openedAt: t(0), resolvedAt: t(50) },
      [
        event("acknowledged", 6),
        event("resolved", 10),
        event("reopened", 20, "Bob"),
        event("acknowledged", 22, "Bob"),
        event("resolved", 50),
      ],
    );

    expect(timings.cycles.map((cycle) => cycle.timeToAcknowledgeMs)).toEqual([6 * 60_000, 2 * 60_000]);
    expect(timings.cycles[1]!.triggeredBy).toBe("Bob");
    expect(timings.timeToAcknowledgeMs).toBe(4 * 60_000);
    expect(timings.timeToResolveMs).toBe(50 * 60_000);
    expect(timings.reopenCount).toBe(1);
  });

  it("leaves an unacknowledged cycle out", () => {
    const timings = computeIncidentTimings(
      { status: "triggered", openedAt: t(0), resolvedAt: null },
      [event("resolved", 10, "anomaly detector"), event("reopened", 20)],
    );

    expect(timings.cycles).toHaveLength(2);
    expect(timings.timeToAcknowledgeMs).toBeNull();
    expect(timings.timeToResolveMs).toBeNull();
  });

  it("clamps an acknowledgement before the onset", () => {
    const timings = computeIncidentTimings(
      { status: "acknowledged", openedAt: t(5), resolvedAt: null },
      [event("acknowledged", 4)],
    );

    expect(timings.timeToAcknowledgeMs).toBe(0);
  });
});
