import { DateTime, IANAZone } from "luxon";

// Run times and report periods of a report schedule, computed with Luxon in
// the schedule's IANA time zone. The functions do no I/O.
//
// Daylight saving time, as Luxon 3.7 resolves local times:
// - a time that does not exist on a spring-forward day (02:30 in
//   Europe/Berlin on 2026-03-29) runs one hour later, at 03:30;
// - a time that occurs twice on a fall-back day (02:30 in Europe/Berlin on
//   2026-10-25) runs once, at its second occurrence (standard time).

export type ReportCadence = "weekly" | "monthly";

export type ScheduleTiming = {
  cadence: ReportCadence;
  /** 1 = Monday to 7 = Sunday; weekly schedules only. */
  dayOfWeek: number | null;
  /** 1 to 28; monthly schedules without lastDayOfMonth only. */
  dayOfMonth: number | null;
  lastDayOfMonth: boolean;
  /** Local time "HH:MM", 24-hour clock. */
  timeOfDay: string;
  /** IANA time zone such as "Europe/Berlin". */
  timeZone: string;
};

export type ReportPeriod = { from: Date; to: Date };

export const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Checks that `zone` is an IANA time zone in Luxon's zone database. */
export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

let zonesByLowerCase: Map<string, string> | null = null;

/**
 * Returns the IANA spelling of a valid time zone typed in any case, such as
 * Europe/Berlin for europe/berlin. Intl accepts zone names in any case.
 * A name that Intl resolves to another zone, such as Asia/Kolkata (ICU
 * returns Asia/Calcutta), is kept as typed unless only its case differs.
 */
export function canonicalTimeZone(zone: string): string {
  zonesByLowerCase ??= new Map(
    [...Intl.supportedValuesOf("timeZone"), "UTC"].map((name) => [name.toLowerCase(), name]),
  );
  const listed = zonesByLowerCase.get(zone.toLowerCase());
  if (listed !== undefined) return listed;
  const resolved = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  // NOTE: an alias outside Intl's list typed in another case, such as
  // us/eastern, is kept as typed. It still works, because Intl and Luxon
  // accept zone names in any case.
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

function parseTimeOfDay(timeOfDay: string): { hour: number; minute: number } {
  const match = TIME_OF_DAY.exec(timeOfDay);
  if (!match) throw new Error(`time of day must be HH:MM, got ${JSON.stringify(timeOfDay)}`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** Returns the schedule's run time on the local calendar date of `day`. */
function runTimeOn(timing: ScheduleTiming, day: DateTime): DateTime {
  return DateTime.fromObject(
    { year: day.year, month: day.month, day: day.day, ...parseTimeOfDay(timing.timeOfDay) },
    { zone: timing.timeZone },
  );
}

/** Lists the run times of the months or weeks around `time`, oldest first. */
function runTimesAround(timing: ScheduleTiming, time: Date): DateTime[] {
  const local = DateTime.fromJSDate(time, { zone: timing.timeZone });
  if (!local.isValid) throw new Error(`invalid time zone ${JSON.stringify(timing.timeZone)}`);
  const times: DateTime[] = [];
  if (timing.cadence === "weekly") {
    if (timing.dayOfWeek === null) throw new Error("a weekly schedule needs dayOfWeek");
    const monday = local.startOf("week");
    for (let week = -1; week <= 1; week += 1) {
      times.push(runTimeOn(timing, monday.plus({ weeks: week, days: timing.dayOfWeek - 1 })));
    }
  } else {
    if (!timing.lastDayOfMonth && timing.dayOfMonth === null) {
      throw new Error("a monthly schedule needs dayOfMonth or lastDayOfMonth");
    }
    const first = local.startOf("month");
    for (let month = -1; month <= 1; month += 1) {
      const start = first.plus({ months: month });
      const day = timing.lastDayOfMonth ? start.daysInMonth! : timing.dayOfMonth!;
      times.push(runTimeOn(timing, start.set({ day })));
    }
  }
  return times;
}

/** Returns the first run time strictly after `time`. */
export function nextRunAfter(timing: ScheduleTiming, time: Date): Date {
  const next = runTimesAround(timing, time).find((run) => run.toMillis() > time.getTime());
  // The three candidates span the week or month of `time` and the next one,
  // so one of them is always later.
  return next!.toJSDate();
}

/** Returns the last run time at or before `time`. */
export function lastRunAtOrBefore(timing: ScheduleTiming, time: Date): Date {
  const last = runTimesAround(timing, time)
    .filter((run) => run.toMillis() <= time.getTime())
    .at(-1);
  return last!.toJSDate();
}

/**
 * Returns the period that a run at `runAt` reports on: the last full
 * Monday-to-Monday week, or the last full calendar month, that ended at or
 * before `runAt`, from local midnight to local midnight in the zone.
 */
export function reportPeriodFor(timing: ScheduleTiming, runAt: Date): ReportPeriod {
  const local = DateTime.fromJSDate(runAt, { zone: timing.timeZone });
  const unit = timing.cadence === "weekly" ? "week" : "month";
  const end = local.startOf(unit);
  const start = timing.cadence === "weekly" ? end.minus({ weeks: 1 }) : end.minus({ months: 1 });
  return { from: start.toJSDate(), to: end.toJSDate() };
}

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** Describes when a schedule runs, such as "Mondays at 08:00 (Europe/Berlin)". */
export function describeTiming(timing: ScheduleTiming): string {
  const at = `at ${timing.timeOfDay} (${timing.timeZone})`;
  if (timing.cadence === "weekly") return `${WEEKDAYS[(timing.dayOfWeek ?? 1) - 1]}s ${at}`;
  if (timing.lastDayOfMonth) return `Last day of each month ${at}`;
  return `Day ${timing.dayOfMonth} of each month ${at}`;
}
