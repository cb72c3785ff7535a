import { describe, expect, it } from "vitest";

import {
  isValidTimeZone,
  nextHandoff,
  upcomingHandoffs,
  whoIsOnCall,
  type LayerDefinition,
  type OnCallUser,
  type ScheduleDefinition,
} from "@/lib/oncall/rotation";

// whoIsOnCall and nextHandoff over stored schedules: turns of hours, days
// and weeks, layers, overrides, and handoffs across daylight saving changes.

const ana: OnCallUser = { userId: 1, name: "Ana Pérez", email: "ana@example.test" };
const bo: OnCallUser = { userId: 2, name: "Bo Lind", email: "bo@example.test" };
const cy: OnCallUser = { userId: 3, name: "Cy Obi", email: "cy@example.test" };
const dee: OnCallUser = { userId: 4, name: "Dee Ray", email: "dee@example.test" };

function layer(overrides: Partial<LayerDefinition> = {}): LayerDefinition {
  return {
    id: 10,
    name: "primary",
    position: 0,
    rotationUnit: "days",
    rotationLength: 1,
    handoffTime: "09:00",
    startDate: "2026-12-01",
    endDate: null,
    members: [ana, bo, cy],
    ...overrides,
  };
}

function schedule(
  layers: LayerDefinition[],
  timeZone = "UTC",
  overrides: ScheduleDefinition["overrides"] = [],
): ScheduleDefinition {
  return { id: 1, name: "Primary", timeZone, layers, overrides };
}

const at = (iso: string) => new Date(iso);

describe("whoIsOnCall daily rotation", () => {
  const daily = schedule([layer()]);

  it("has nobody before the first turn", () => {
    expect(whoIsOnCall(daily, at("2026-12-01T08:59:59Z"))).toBeNull();
  });

  it("starts with the first member", () => {
    const shift = whoIsOnCall(daily, at("2026-12-01T09:00:00Z"));
    expect(shift?.userId).toBe(ana.userId);
    expect(shift?.source).toBe("layer");
    expect(shift?.startsAt).toEqual(at("2026-12-01T09:00:00Z"));
    expect(shift?.endsAt).toEqual(at("2026-12-02T09:00:00Z"));
  });

  it("hands off at the handoff time", () => {
    expect(whoIsOnCall(daily, at("2026-12-02T08:59:59Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(daily, at("2026-12-02T09:00:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(daily, at("2026-12-03T09:00:00Z"))?.userId).toBe(cy.userId);
  });

  it("wraps around the members", () => {
    expect(whoIsOnCall(daily, at("2026-12-04T12:00:00Z"))?.userId).toBe(ana.userId);
    // 365 days after the start: turn 365, 365 mod 3 = 2.
    expect(whoIsOnCall(daily, at("2027-12-01T10:00:00Z"))?.userId).toBe(cy.userId);
  });

  it("stops at the end date", () => {
    const ending = schedule([layer({ endDate: "2026-12-03" })]);
    const last = whoIsOnCall(ending, at("2026-12-02T10:00:00Z"));
    expect(last?.userId).toBe(bo.userId);
    expect(last?.endsAt).toEqual(at("2026-12-03T09:00:00Z"));
    expect(whoIsOnCall(ending, at("2026-12-03T09:00:00Z"))).toBeNull();
  });

  it("has nobody without members", () => {
    expect(whoIsOnCall(schedule([layer({ members: [] })]), at("2026-12-02T10:00:00Z"))).toBeNull();
  });
});

describe("whoIsOnCall other units", () => {
  it("rotates weekly", () => {
    const weekly = schedule([layer({ rotationUnit: "weeks", startDate: "2026-11-30" })]);
    expect(whoIsOnCall(weekly, at("2026-12-06T23:00:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(weekly, at("2026-12-07T09:00:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(weekly, at("2026-12-14T09:00:00Z"))?.userId).toBe(cy.userId);
  });

  it("rotates every 8 hours", () => {
    const hourly = schedule([layer({ rotationUnit: "hours", rotationLength: 8, handoffTime: "06:00" })]);
    expect(whoIsOnCall(hourly, at("2026-12-01T13:59:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(hourly, at("2026-12-01T14:00:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(hourly, at("2026-12-01T22:00:00Z"))?.userId).toBe(cy.userId);
    expect(whoIsOnCall(hourly, at("2026-12-02T06:00:00Z"))?.userId).toBe(ana.userId);
  });

  it("rotates every 2 days", () => {
    const twoDays = schedule([layer({ rotationLength: 2 })]);
    expect(whoIsOnCall(twoDays, at("2026-12-02T20:00:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(twoDays, at("2026-12-03T09:00:00Z"))?.userId).toBe(bo.userId);
  });
});

describe("whoIsOnCall in a time zone", () => {
  // Madrid is UTC+1 in winter and UTC+2 from 2026-03-29 02:00 local to
  // 2026-10-25 03:00 local.
  const madrid = schedule([layer({ startDate: "2026-03-27", members: [ana, bo] })], "Europe/Madrid");

  it("hands off at local time before the spring change", () => {
    expect(whoIsOnCall(madrid, at("2026-03-28T07:59:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(madrid, at("2026-03-28T08:00:00Z"))?.userId).toBe(bo.userId);
  });

  it("keeps 09:00 local after the spring change", () => {
    // 2026-03-29 09:00 in Madrid is 07:00 UTC.
    const before = whoIsOnCall(madrid, at("2026-03-29T06:59:00Z"));
    expect(before?.userId).toBe(bo.userId);
    expect(before?.endsAt).toEqual(at("2026-03-29T07:00:00Z"));
    expect(whoIsOnCall(madrid, at("2026-03-29T07:00:00Z"))?.userId).toBe(ana.userId);
  });

  it("makes the spring turn 23 hours long", () => {
    const shift = whoIsOnCall(madrid, at("2026-03-28T12:00:00Z"));
    const hours = (shift!.endsAt!.getTime() - shift!.startsAt.getTime()) / 3_600_000;
    expect(hours).toBe(23);
  });

  it("keeps 09:00 local after the autumn change", () => {
    const autumn = schedule([layer({ startDate: "2026-10-24", members: [ana, bo] })], "Europe/Madrid");
    // 2026-10-24 09:00 is 07:00 UTC (UTC+2); 2026-10-25 09:00 is 08:00 UTC.
    const shift = whoIsOnCall(autumn, at("2026-10-25T07:30:00Z"));
    expect(shift?.userId).toBe(ana.userId);
    expect(shift?.endsAt).toEqual(at("2026-10-25T08:00:00Z"));
    const hours = (shift!.endsAt!.getTime() - shift!.startsAt.getTime()) / 3_600_000;
    expect(hours).toBe(25);
    expect(whoIsOnCall(autumn, at("2026-10-25T08:00:00Z"))?.userId).toBe(bo.userId);
  });

  it("keeps hour turns in elapsed time", () => {
    const hourly = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 12, handoffTime: "20:00", startDate: "2026-03-28", members: [ana, bo] })],
      "Europe/Madrid",
    );
    // 2026-03-28 20:00 CET is 19:00 UTC; 12 hours later is 07:00 UTC,
    // which is 09:00 CEST after the change.
    const shift = whoIsOnCall(hourly, at("2026-03-29T06:00:00Z"));
    expect(shift?.userId).toBe(ana.userId);
    expect(shift?.endsAt).toEqual(at("2026-03-29T07:00:00Z"));
  });

  it("moves a handoff in the spring gap forward", () => {
    // 02:30 does not exist on 2026-03-29 in Madrid; Luxon uses 03:30 CEST.
    const gap = schedule([layer({ handoffTime: "02:30", startDate: "2026-03-28", members: [ana, bo] })], "Europe/Madrid");
    expect(whoIsOnCall(gap, at("2026-03-29T01:29:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(gap, at("2026-03-29T01:30:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(gap, at("2026-03-30T00:30:00Z"))?.userId).toBe(ana.userId);
  });

  it("rotates in New York across its change", () => {
    // New York moves to UTC-4 on 2026-03-08: 09:00 is 14:00 UTC the day
    // before and 13:00 UTC that day.
    const newYork = schedule([layer({ startDate: "2026-03-07", members: [ana, bo] })], "America/New_York");
    expect(whoIsOnCall(newYork, at("2026-03-07T13:59:00Z"))).toBeNull();
    expect(whoIsOnCall(newYork, at("2026-03-07T14:00:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(newYork, at("2026-03-08T12:59:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(newYork, at("2026-03-08T13:00:00Z"))?.userId).toBe(bo.userId);
  });
});

describe("whoIsOnCall with a start date on a change", () => {
  // Madrid skips 02:00-03:00 on 2026-03-29 (UTC+1 to UTC+2) and repeats
  // 02:00-03:00 on 2026-10-25 (UTC+2 to UTC+1). New York skips 02:00-03:00
  // on 2026-03-08 (UTC-5 to UTC-4) and repeats 01:00-02:00 on 2026-11-01.
  const madridGap = schedule(
    [layer({ handoffTime: "02:30", startDate: "2026-03-29", members: [ana, bo] })],
    "Europe/Madrid",
  );

  it("hands off at 03:30 on the gap day only", () => {
    // 02:30 does not exist on 2026-03-29, so the first turn starts at 03:30 CEST.
    const first = whoIsOnCall(madridGap, at("2026-03-29T01:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.startsAt).toEqual(at("2026-03-29T01:30:00Z"));
    // 2026-03-30 02:30 CEST is 00:30 UTC.
    expect(first?.endsAt).toEqual(at("2026-03-30T00:30:00Z"));
    expect(whoIsOnCall(madridGap, at("2026-03-29T01:29:00Z"))).toBeNull();
  });

  it("hands off at 02:30 after the gap day", () => {
    expect(whoIsOnCall(madridGap, at("2026-03-30T00:29:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(madridGap, at("2026-03-30T00:30:00Z"))?.userId).toBe(bo.userId);
    // Turn 6 on 2026-04-04 goes to Ana, turn 7 on 2026-04-05 to Bo.
    const sixth = whoIsOnCall(madridGap, at("2026-04-05T00:29:00Z"));
    expect(sixth?.userId).toBe(ana.userId);
    expect(sixth?.startsAt).toEqual(at("2026-04-04T00:30:00Z"));
    expect(whoIsOnCall(madridGap, at("2026-04-05T00:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("lists 02:30 handoffs after the gap day", () => {
    const handoffs = upcomingHandoffs(madridGap, at("2026-03-29T12:00:00Z"), 3);
    expect(handoffs.map((handoff) => handoff.at)).toEqual([
      at("2026-03-30T00:30:00Z"),
      at("2026-03-31T00:30:00Z"),
      at("2026-04-01T00:30:00Z"),
    ]);
    expect(handoffs.map((handoff) => handoff.next?.userId)).toEqual([bo.userId, ana.userId, bo.userId]);
  });

  it("keeps 02:30 after the next autumn change", () => {
    // 2026-10-26 02:30 CET is 01:30 UTC. That turn is number 211, so it is Bo's.
    expect(whoIsOnCall(madridGap, at("2026-10-26T01:29:00Z"))?.userId).toBe(ana.userId);
    expect(whoIsOnCall(madridGap, at("2026-10-26T01:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("starts an overlap day at the first 02:30", () => {
    const overlap = schedule(
      [layer({ handoffTime: "02:30", startDate: "2026-10-25", members: [ana, bo] })],
      "Europe/Madrid",
    );
    // 02:30 occurs at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    expect(whoIsOnCall(overlap, at("2026-10-25T00:29:00Z"))).toBeNull();
    const first = whoIsOnCall(overlap, at("2026-10-25T00:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    // 2026-10-26 02:30 CET is 01:30 UTC, so the first turn lasts 25 hours.
    expect(first?.endsAt).toEqual(at("2026-10-26T01:30:00Z"));
    expect(whoIsOnCall(overlap, at("2026-10-27T01:30:00Z"))?.userId).toBe(ana.userId);
  });

  it("hands off at the first 02:30 of an overlap day", () => {
    const before = schedule(
      [layer({ handoffTime: "02:30", startDate: "2026-10-24", members: [ana, bo] })],
      "Europe/Madrid",
    );
    const shift = whoIsOnCall(before, at("2026-10-25T00:29:00Z"));
    expect(shift?.userId).toBe(ana.userId);
    expect(shift?.endsAt).toEqual(at("2026-10-25T00:30:00Z"));
    expect(whoIsOnCall(before, at("2026-10-25T00:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("rotates weekly from a gap day", () => {
    const weekly = schedule(
      [layer({ rotationUnit: "weeks", handoffTime: "02:30", startDate: "2026-03-29", members: [ana, bo] })],
      "Europe/Madrid",
    );
    const first = whoIsOnCall(weekly, at("2026-03-29T01:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    // 2026-04-05 02:30 CEST is 00:30 UTC.
    expect(first?.endsAt).toEqual(at("2026-04-05T00:30:00Z"));
    expect(whoIsOnCall(weekly, at("2026-04-05T00:30:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(weekly, at("2026-04-12T00:29:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(weekly, at("2026-04-12T00:30:00Z"))?.userId).toBe(ana.userId);
  });

  it("rotates weekly across an overlap day", () => {
    const weekly = schedule(
      [layer({ rotationUnit: "weeks", handoffTime: "02:30", startDate: "2026-10-18", members: [ana, bo] })],
      "Europe/Madrid",
    );
    // 2026-10-18 02:30 CEST is 00:30 UTC; 2026-10-25 02:30 first occurs at 00:30 UTC.
    const first = whoIsOnCall(weekly, at("2026-10-18T00:30:00Z"));
    expect(first?.endsAt).toEqual(at("2026-10-25T00:30:00Z"));
    const second = whoIsOnCall(weekly, at("2026-10-25T00:30:00Z"));
    expect(second?.userId).toBe(bo.userId);
    // 2026-11-01 02:30 CET is 01:30 UTC, so this turn lasts 7 days and 1 hour.
    expect(second?.endsAt).toEqual(at("2026-11-01T01:30:00Z"));
  });

  it("hands off in New York after its gap day", () => {
    const newYork = schedule(
      [layer({ handoffTime: "02:30", startDate: "2026-03-08", members: [ana, bo] })],
      "America/New_York",
    );
    // 2026-03-08 02:30 does not exist: the first turn starts at 03:30 EDT,
    // 07:30 UTC. Later turns start at 02:30 EDT, 06:30 UTC.
    const first = whoIsOnCall(newYork, at("2026-03-08T07:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.endsAt).toEqual(at("2026-03-09T06:30:00Z"));
    expect(whoIsOnCall(newYork, at("2026-03-09T06:30:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(newYork, at("2026-03-10T06:29:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(newYork, at("2026-03-10T06:30:00Z"))?.userId).toBe(ana.userId);
  });

  it("rotates weekly from a New York gap day", () => {
    const weekly = schedule(
      [layer({ rotationUnit: "weeks", handoffTime: "02:30", startDate: "2026-03-08", members: [ana, bo] })],
      "America/New_York",
    );
    const first = whoIsOnCall(weekly, at("2026-03-08T07:30:00Z"));
    expect(first?.endsAt).toEqual(at("2026-03-15T06:30:00Z"));
    expect(whoIsOnCall(weekly, at("2026-03-15T06:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("starts a New York overlap day at the first 01:30", () => {
    const overlap = schedule(
      [layer({ handoffTime: "01:30", startDate: "2026-11-01", members: [ana, bo] })],
      "America/New_York",
    );
    // 01:30 occurs at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    const first = whoIsOnCall(overlap, at("2026-11-01T05:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.endsAt).toEqual(at("2026-11-02T06:30:00Z"));
    expect(whoIsOnCall(overlap, at("2026-11-02T06:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("counts hour turns from the moved first handoff", () => {
    // Hour turns are elapsed time from the first handoff, 03:30 CEST
    // (01:30 UTC) on the gap day, as for a layer started the day before.
    const hourly = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 8, handoffTime: "02:30", startDate: "2026-03-29", members: [ana, bo] })],
      "Europe/Madrid",
    );
    const dayBefore = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 8, handoffTime: "02:30", startDate: "2026-03-28", members: [ana, bo] })],
      "Europe/Madrid",
    );
    const first = whoIsOnCall(hourly, at("2026-03-29T01:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.endsAt).toEqual(at("2026-03-29T09:30:00Z"));
    expect(whoIsOnCall(hourly, at("2026-03-29T09:30:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(hourly, at("2026-03-30T01:30:00Z"))?.startsAt).toEqual(at("2026-03-30T01:30:00Z"));
    expect(whoIsOnCall(dayBefore, at("2026-03-29T01:30:00Z"))?.startsAt).toEqual(at("2026-03-29T01:30:00Z"));
  });

  it("counts hour turns from the first overlap occurrence", () => {
    const hourly = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 8, handoffTime: "02:30", startDate: "2026-10-25", members: [ana, bo] })],
      "Europe/Madrid",
    );
    const first = whoIsOnCall(hourly, at("2026-10-25T00:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.endsAt).toEqual(at("2026-10-25T08:30:00Z"));
    expect(whoIsOnCall(hourly, at("2026-10-25T08:30:00Z"))?.userId).toBe(bo.userId);
  });

  it("counts New York hour turns in elapsed time", () => {
    const gap = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 12, handoffTime: "02:30", startDate: "2026-03-08", members: [ana, bo] })],
      "America/New_York",
    );
    // The first turn starts at 03:30 EDT (07:30 UTC) and lasts 12 hours.
    expect(whoIsOnCall(gap, at("2026-03-08T07:30:00Z"))?.endsAt).toEqual(at("2026-03-08T19:30:00Z"));
    expect(whoIsOnCall(gap, at("2026-03-08T19:30:00Z"))?.userId).toBe(bo.userId);

    const overlap = schedule(
      [layer({ rotationUnit: "hours", rotationLength: 12, handoffTime: "01:30", startDate: "2026-11-01", members: [ana, bo] })],
      "America/New_York",
    );
    // The first 01:30 is 05:30 UTC (EDT); 12 hours later is 12:30 EST.
    const first = whoIsOnCall(overlap, at("2026-11-01T05:30:00Z"));
    expect(first?.userId).toBe(ana.userId);
    expect(first?.endsAt).toEqual(at("2026-11-01T17:30:00Z"));
  });
});

describe("whoIsOnCall layers and overrides", () => {
  const base = layer({ id: 10, members: [ana, bo] });
  const weekend = layer({
    id: 11,
    name: "holiday cover",
    position: 1,
    startDate: "2026-12-05",
    endDate: "2026-12-07",
    members: [dee],
  });

  it("lets the higher layer win", () => {
    const layered = schedule([base, weekend]);
    expect(whoIsOnCall(layered, at("2026-12-04T10:00:00Z"))?.userId).toBe(bo.userId);
    const cover = whoIsOnCall(layered, at("2026-12-05T10:00:00Z"));
    expect(cover?.userId).toBe(dee.userId);
    expect(cover?.layerName).toBe("holiday cover");
    expect(whoIsOnCall(layered, at("2026-12-07T09:00:00Z"))?.userId).toBe(ana.userId);
  });

  it("lets an override win over layers", () => {
    const withOverride = schedule([base, weekend], "UTC", [
      { id: 5, ...cy, startsAt: at("2026-12-05T12:00:00Z"), endsAt: at("2026-12-05T18:00:00Z") },
    ]);
    const shift = whoIsOnCall(withOverride, at("2026-12-05T12:00:00Z"));
    expect(shift?.userId).toBe(cy.userId);
    expect(shift?.source).toBe("override");
    expect(shift?.overrideId).toBe(5);
    expect(whoIsOnCall(withOverride, at("2026-12-05T18:00:00Z"))?.userId).toBe(dee.userId);
  });

  it("lets the newest override win", () => {
    const overlapping = schedule([base], "UTC", [
      { id: 5, ...cy, startsAt: at("2026-12-02T00:00:00Z"), endsAt: at("2026-12-03T00:00:00Z") },
      { id: 6, ...dee, startsAt: at("2026-12-02T06:00:00Z"), endsAt: at("2026-12-02T08:00:00Z") },
    ]);
    expect(whoIsOnCall(overlapping, at("2026-12-02T05:00:00Z"))?.userId).toBe(cy.userId);
    expect(whoIsOnCall(overlapping, at("2026-12-02T07:00:00Z"))?.userId).toBe(dee.userId);
    expect(whoIsOnCall(overlapping, at("2026-12-02T08:00:00Z"))?.userId).toBe(cy.userId);
  });

  it("covers a time without layers", () => {
    const onlyOverride = schedule([], "UTC", [
      { id: 7, ...bo, startsAt: at("2026-12-02T00:00:00Z"), endsAt: at("2026-12-02T02:00:00Z") },
    ]);
    expect(whoIsOnCall(onlyOverride, at("2026-12-02T01:00:00Z"))?.userId).toBe(bo.userId);
    expect(whoIsOnCall(onlyOverride, at("2026-12-02T02:00:00Z"))).toBeNull();
  });
});

describe("nextHandoff", () => {
  it("finds the next turn", () => {
    const handoff = nextHandoff(schedule([layer()]), at("2026-12-01T12:00:00Z"));
    expect(handoff?.at).toEqual(at("2026-12-02T09:00:00Z"));
    expect(handoff?.next?.userId).toBe(bo.userId);
  });

  it("finds an override start", () => {
    const withOverride = schedule([layer()], "UTC", [
      { id: 5, ...dee, startsAt: at("2026-12-01T15:00:00Z"), endsAt: at("2026-12-01T16:00:00Z") },
    ]);
    const handoff = nextHandoff(withOverride, at("2026-12-01T12:00:00Z"));
    expect(handoff?.at).toEqual(at("2026-12-01T15:00:00Z"));
    expect(handoff?.next?.userId).toBe(dee.userId);
  });

  it("skips a turn of the same user", () => {
    // With one member every handoff keeps Ana, until the layer ends.
    const single = schedule([layer({ members: [ana], endDate: "2026-12-05" })]);
    const handoff = nextHandoff(single, at("2026-12-01T12:00:00Z"));
    expect(handoff?.at).toEqual(at("2026-12-05T09:00:00Z"));
    expect(handoff?.next).toBeNull();
  });

  it("returns null without changes", () => {
    expect(nextHandoff(schedule([]), at("2026-12-01T12:00:00Z"))).toBeNull();
  });

  it("lists upcoming handoffs in order", () => {
    const handoffs = upcomingHandoffs(schedule([layer()]), at("2026-12-01T12:00:00Z"), 3);
    expect(handoffs.map((handoff) => handoff.next?.userId)).toEqual([bo.userId, cy.userId, ana.userId]);
    expect(handoffs[2]?.at).toEqual(at("2026-12-04T09:00:00Z"));
  });
});

describe("isValidTimeZone", () => {
  it("accepts IANA zones and rejects others", () => {
    expect(isValidTimeZone("Europe/Madrid")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
  });
});
