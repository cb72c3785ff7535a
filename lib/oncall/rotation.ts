import { DateTime } from "luxon";

// Who is on call in a schedule at an instant, computed from the stored
// schedule alone (no database, no clock), so that it can be tested across
// handoffs, overrides and daylight saving changes.
//
// A layer's turns start at its handoff time on its start date, in the
// schedule's time zone. Turns of days or weeks keep the local handoff time
// when the UTC offset changes, so a daily 09:00 handoff stays at 09:00
// local. Turns of hours are elapsed time, so a 12-hour turn that spans a
// daylight saving change still lasts 12 hours.

export const ROTATION_UNITS = ["hours", "days", "weeks"] as const;

export type RotationUnit = (typeof ROTATION_UNITS)[number];

export type OnCallUser = { userId: number; name: string; email: string };

export type LayerDefinition = {
  id: number;
  name: string;
  /** Higher positions win where two layers are in effect. */
  position: number;
  rotationUnit: RotationUnit;
  rotationLength: number;
  /** Local "HH:MM" in the schedule's time zone. */
  handoffTime: string;
  /** Local "YYYY-MM-DD" of the first turn. */
  startDate: string;
  /** Local "YYYY-MM-DD" at whose handoff time the layer stops; null for never. */
  endDate: string | null;
  /** Members in rotation order; the first takes the first turn. */
  members: OnCallUser[];
};

export type OverrideDefinition = OnCallUser & {
  id: number;
  startsAt: Date;
  endsAt: Date;
};

export type ScheduleDefinition = {
  id: number;
  name: string;
  /** IANA time zone, such as "Europe/Madrid". */
  timeZone: string;
  layers: LayerDefinition[];
  overrides: OverrideDefinition[];
};

export type OnCallShift = OnCallUser & {
  source: "override" | "layer";
  layerId: number | null;
  layerName: string | null;
  overrideId: number | null;
  /** Start of the turn or override that puts this user on call. */
  startsAt: Date;
  /** End of that turn or override; null when it never ends. */
  endsAt: Date | null;
};

/** Returns whether a string is an IANA time zone that Luxon (Intl) supports. */
export function isValidTimeZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

/**
 * Returns the instant of a local date and time. A time in a daylight saving
 * gap moves forward by the gap (02:30 becomes 03:30 in Madrid on the spring
 * change). A time that occurs twice on the autumn change maps to its first
 * occurrence.
 */
function localInstant(date: string, time: string, zone: string): DateTime {
  const possible = DateTime.fromISO(`${date}T${time}`, { zone }).getPossibleOffsets();
  return possible.reduce((earliest, candidate) => (candidate < earliest ? candidate : earliest));
}

/** Returns the local date `days` calendar days after `date`, both "YYYY-MM-DD". */
function addCalendarDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: "UTC" }).plus({ days }).toISODate()!;
}

/**
 * Returns the start of turn `index` of a layer, counted from 0. Turns of
 * days and weeks start at the handoff time on a date counted in calendar
 * days from the start date, so a first handoff that a daylight saving gap
 * moved does not move the later ones.
 */
function turnStart(layer: LayerDefinition, zone: string, index: number): DateTime {
  const count = index * layer.rotationLength;
  switch (layer.rotationUnit) {
    case "hours": {
      const first = localInstant(layer.startDate, layer.handoffTime, zone);
      return first.plus({ milliseconds: count * 3_600_000 });
    }
    case "days":
      return localInstant(addCalendarDays(layer.startDate, count), layer.handoffTime, zone);
    case "weeks":
      return localInstant(addCalendarDays(layer.startDate, count * 7), layer.handoffTime, zone);
  }
}

function layerEnd(layer: LayerDefinition, zone: string): DateTime | null {
  return layer.endDate === null ? null : localInstant(layer.endDate, layer.handoffTime, zone);
}

/** Returns the index of the turn in effect at `at`, or null outside the layer. */
function turnIndex(layer: LayerDefinition, zone: string, at: DateTime): number | null {
  const first = turnStart(layer, zone, 0);
  const end = layerEnd(layer, zone);
  if (at < first || (end !== null && at >= end)) return null;

  let unitHours = 24 * 7;
  if (layer.rotationUnit === "hours") unitHours = 1;
  else if (layer.rotationUnit === "days") unitHours = 24;
  const turnMs = layer.rotationLength * unitHours * 3_600_000;
  // An estimate from elapsed time, corrected below, because a day turn
  // across a daylight saving change lasts 23 or 25 hours.
  let index = Math.max(0, Math.floor((at.toMillis() - first.toMillis()) / turnMs));
  while (index > 0 && turnStart(layer, zone, index) > at) index -= 1;
  while (turnStart(layer, zone, index + 1) <= at) index += 1;
  return index;
}

function layerShift(
  layer: LayerDefinition,
  zone: string,
  at: DateTime,
): OnCallShift | null {
  if (layer.members.length === 0) return null;
  const index = turnIndex(layer, zone, at);
  if (index === null) return null;
  const member = layer.members[index % layer.members.length]!;
  const end = layerEnd(layer, zone);
  let turnEnd = turnStart(layer, zone, index + 1);
  if (end !== null && end < turnEnd) turnEnd = end;
  return {
    ...member,
    source: "layer",
    layerId: layer.id,
    layerName: layer.name,
    overrideId: null,
    startsAt: turnStart(layer, zone, index).toJSDate(),
    endsAt: turnEnd.toJSDate(),
  };
}

function overrideShift(schedule: ScheduleDefinition, at: Date): OnCallShift | null {
  // The newest override wins where two overlap.
  let winner: OverrideDefinition | null = null;
  for (const override of schedule.overrides) {
    if (override.startsAt > at || override.endsAt <= at) continue;
    if (winner === null || override.id > winner.id) winner = override;
  }
  if (winner === null) return null;
  return {
    userId: winner.userId,
    name: winner.name,
    email: winner.email,
    source: "override",
    layerId: null,
    layerName: null,
    overrideId: winner.id,
    startsAt: winner.startsAt,
    endsAt: winner.endsAt,
  };
}

/**
 * Returns who is on call in a schedule at `at`: the user of the newest
 * override covering it, else the member whose turn it is in the highest
 * layer in effect, else null.
 */
export function whoIsOnCall(schedule: ScheduleDefinition, at: Date): OnCallShift | null {
  const override = overrideShift(schedule, at);
  if (override) return override;

  const instant = DateTime.fromJSDate(at, { zone: schedule.timeZone });
  const layers = [...schedule.layers].sort((a, b) => b.position - a.position);
  for (const layer of layers) {
    const shift = layerShift(layer, schedule.timeZone, instant);
    if (shift) return shift;
  }
  return null;
}

/** Returns the instants after `at` where the on-call user may change. */
function boundariesAfter(schedule: ScheduleDefinition, at: Date): number[] {
  const zone = schedule.timeZone;
  const instant = DateTime.fromJSDate(at, { zone });
  const times: number[] = [];
  for (const override of schedule.overrides) {
    times.push(override.startsAt.getTime(), override.endsAt.getTime());
  }
  for (const layer of schedule.layers) {
    times.push(turnStart(layer, zone, 0).toMillis());
    const end = layerEnd(layer, zone);
    if (end !== null) times.push(end.toMillis());
    const shift = layerShift(layer, zone, instant);
    if (shift?.endsAt) times.push(shift.endsAt.getTime());
  }
  return times.filter((time) => time > at.getTime());
}

/** Maximum boundaries nextHandoff steps over before it gives up. */
const MAX_HANDOFF_STEPS = 500;

export type Handoff = { at: Date; next: OnCallShift | null };

/**
 * Returns the next instant after `at` when a different user (or nobody)
 * goes on call, with that shift, or null when the schedule never changes.
 */
export function nextHandoff(schedule: ScheduleDefinition, at: Date): Handoff | null {
  const current = whoIsOnCall(schedule, at);
  let cursor = at;
  for (let step = 0; step < MAX_HANDOFF_STEPS; step += 1) {
    const times = boundariesAfter(schedule, cursor);
    if (times.length === 0) return null;
    cursor = new Date(Math.min(...times));
    const next = whoIsOnCall(schedule, cursor);
    if ((next?.userId ?? null) !== (current?.userId ?? null)) return { at: cursor, next };
  }
  // NOTE: a schedule whose every turn goes to the same user for more than
  // MAX_HANDOFF_STEPS boundaries reports no handoff.
  return null;
}

/** Returns up to `count` handoffs after `at`, in order. */
export function upcomingHandoffs(
  schedule: ScheduleDefinition,
  at: Date,
  count: number,
): Handoff[] {
  const handoffs: Handoff[] = [];
  let cursor = at;
  while (handoffs.length < count) {
    const handoff = nextHandoff(schedule, cursor);
    if (handoff === null) break;
    handoffs.push(handoff);
    cursor = handoff.at;
  }
  return handoffs;
}
