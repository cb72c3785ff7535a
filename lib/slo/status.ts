import type pg from "pg";

import { sloUnit, type SloMeasure, type SloUnit } from "@/lib/slo/definitions";
import { measureSlo, type TimeRange } from "@/lib/slo/measure";
import type { SloRecord } from "@/lib/slo/store";

// Attainment, error budget and burn rates of an SLO at one moment, from
// the measures of its window and of the four burn-rate alert windows, all
// ending at that moment. lib/slo/definitions.ts gives the formulas.

type Queryable = Pick<pg.ClientBase, "query">;

/**
 * fast_burn_no_data: a fast burn is open but its short window has no data,
 * so the burn stays open until data shows the rate at or below the threshold.
 */
export type SloState = "fast_burn" | "fast_burn_no_data" | "slow_burn" | "breached" | "ok" | "no_data";

export type BurnWindow = {
  minutes: number;
  /** Burn rate over the window, or null when the window has no data. */
  burnRate: number | null;
};

export type SloStatus = {
  at: Date;
  unit: SloUnit;
  window: TimeRange;
  /** Good units / all units over the window; null with no data. */
  attainment: number | null;
  total: number;
  bad: number;
  /** (1 - target) * total, in the unit. */
  budget: number;
  /** budget - bad; negative once the budget is spent. */
  budgetRemaining: number;
  /** 1 - bad / budget; null when the budget is 0. */
  budgetRemainingFraction: number | null;
  fast: { threshold: number; long: BurnWindow; short: BurnWindow; burning: boolean };
  slow: { threshold: number; long: BurnWindow; short: BurnWindow; burning: boolean };
  state: SloState;
};

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Returns (bad / total) / (1 - target), or null when there is no data. */
export function burnRate(measure: SloMeasure, target: number): number | null {
  if (!(measure.total > 0)) return null;
  return measure.bad / measure.total / (1 - target);
}

function endingAt(at: Date, ms: number): TimeRange {
  return { start: new Date(at.getTime() - ms), end: at };
}

function burnWindow(minutes: number, measure: SloMeasure, target: number): BurnWindow {
  return { minutes, burnRate: burnRate(measure, target) };
}

function isAbove(window: BurnWindow, threshold: number): boolean {
  return window.burnRate !== null && window.burnRate > threshold;
}

/** Builds the status from measures of [window, fast long, fast short, slow long, slow short]. */
export function statusFromMeasures(
  slo: SloRecord,
  at: Date,
  measures: SloMeasure[],
): SloStatus {
  const [window, fastLong, fastShort, slowLong, slowShort] = measures as [
    SloMeasure,
    SloMeasure,
    SloMeasure,
    SloMeasure,
    SloMeasure,
  ];
  const budget = (1 - slo.target) * window.total;
  const fast = {
    threshold: slo.fastBurnRate,
    long: burnWindow(slo.fastLongMinutes, fastLong, slo.target),
    short: burnWindow(slo.fastShortMinutes, fastShort, slo.target),
    burning: false,
  };
  fast.burning = isAbove(fast.long, fast.threshold) && isAbove(fast.short, fast.threshold);
  const slow = {
    threshold: slo.slowBurnRate,
    long: burnWindow(slo.slowLongMinutes, slowLong, slo.target),
    short: burnWindow(slo.slowShortMinutes, slowShort, slo.target),
    burning: false,
  };
  slow.burning = isAbove(slow.long, slow.threshold) && isAbove(slow.short, slow.threshold);
  const attainment = window.total > 0 ? 1 - window.bad / window.total : null;

  let state: SloState = "ok";
  if (attainment === null) state = "no_data";
  else if (fast.burning) state = "fast_burn";
  else if (slo.burningSince !== null && fast.short.burnRate === null) state = "fast_burn_no_data";
  else if (slow.burning) state = "slow_burn";
  else if (attainment < slo.target) state = "breached";

  return {
    at,
    unit: sloUnit(slo.kind, slo.availabilitySource),
    window: endingAt(at, slo.windowDays * DAY_MS),
    attainment,
    total: window.total,
    bad: window.bad,
    budget,
    budgetRemaining: budget - window.bad,
    budgetRemainingFraction: budget > 0 ? 1 - window.bad / budget : null,
    fast,
    slow,
    state,
  };
}

/** Returns the five ranges a status needs, all ending at `at`. */
export function statusRanges(slo: SloRecord, at: Date): TimeRange[] {
  return [
    endingAt(at, slo.windowDays * DAY_MS),
    endingAt(at, slo.fastLongMinutes * MINUTE_MS),
    endingAt(at, slo.fastShortMinutes * MINUTE_MS),
    endingAt(at, slo.slowLongMinutes * MINUTE_MS),
    endingAt(at, slo.slowShortMinutes * MINUTE_MS),
  ];
}

/** Computes an SLO's status over the windows that end at `at`. */
export async function computeSloStatus(
  db: Queryable,
  slo: SloRecord,
  at: Date,
): Promise<SloStatus> {
  const measures = await measureSlo(db, slo, statusRanges(slo, at));
  return statusFromMeasures(slo, at, measures);
}
