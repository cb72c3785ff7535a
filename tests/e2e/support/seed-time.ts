// Durations used by the browser-test seed, in milliseconds.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** Length of the seeded history. */
export const HISTORY_MS = 8 * DAY_MS;
