// Ticks and labels of a time x-axis in the viewer's time zone.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Tick spacings to choose from, shortest first. */
const TICK_STEPS_MS = [
  5 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
  3 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
  14 * DAY_MS,
  30 * DAY_MS,
];

/**
 * Returns tick times in [from, to] at the shortest step from TICK_STEPS_MS
 * that gives at most `maxTicks` ticks. Ticks sit on multiples of the step in
 * local time, so daily ticks fall on local midnight.
 */
export function timeTicks(from: number, to: number, maxTicks = 6): number[] {
  if (!(to > from) || maxTicks < 1) return [];
  const span = to - from;
  const step =
    TICK_STEPS_MS.find((candidate) => span / candidate <= maxTicks) ??
    Math.ceil(span / maxTicks / DAY_MS) * DAY_MS;
  // getTimezoneOffset is minutes behind UTC, so local time is UTC minus it.
  const offset = -new Date(from).getTimezoneOffset() * MINUTE_MS;
  const ticks: number[] = [];
  let tick = Math.ceil((from + offset) / step) * step - offset;
  for (; tick <= to; tick += step) ticks.push(tick);
  return ticks;
}

const timeFormat = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const dayFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
});

/** Formats a tick as "14:30" within a two-day span and as "5 Dec" beyond. */
export function formatTimeTick(value: number, spanMs: number): string {
  return spanMs <= 2 * DAY_MS ? timeFormat.format(value) : dayFormat.format(value);
}
