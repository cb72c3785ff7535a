// ISO 8601 weeks (Monday to Monday, in UTC) that split a report period into
// the rows of the weekly CSV. The first and last week are clipped to the
// period, so their rows may cover less than seven days.

export const DAY_MS = 24 * 60 * 60 * 1000;
export const WEEK_MS = 7 * DAY_MS;

export type ReportWeek = {
  /** ISO week of the week's Monday, such as "2026-W49". */
  label: string;
  start: Date;
  end: Date;
  /** False for a first or last week clipped to the period. */
  full: boolean;
};

/** Returns 00:00 UTC of the Monday of the ISO week that contains `time`. */
export function isoWeekStart(time: number): number {
  const midnight = Math.floor(time / DAY_MS) * DAY_MS;
  // getUTCDay is 0 for Sunday; ISO weeks start on Monday.
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7;
  return midnight - weekday * DAY_MS;
}

/** Formats the ISO week of a Monday as "YYYY-Www". */
export function isoWeekLabel(monday: number): string {
  // The ISO week-numbering year is the year of the week's Thursday.
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const dayOfYear = Math.floor(
    (thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS,
  );
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** Splits [from, to) into ISO weeks, clipping the first and last to the period. */
export function splitIsoWeeks(from: Date, to: Date): ReportWeek[] {
  const weeks: ReportWeek[] = [];
  const end = to.getTime();
  let monday = isoWeekStart(from.getTime());
  while (monday < end) {
    const start = Math.max(monday, from.getTime());
    const stop = Math.min(monday + WEEK_MS, end);
    weeks.push({
      label: isoWeekLabel(monday),
      start: new Date(start),
      end: new Date(stop),
      full: stop - start === WEEK_MS,
    });
    monday += WEEK_MS;
  }
  return weeks;
}
