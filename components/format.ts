// Number, duration and time formatting shared by the dashboard components.
// Everything here is pure, so it runs the same on the server and in the browser.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Formats a duration as its two largest units, e.g. "2 h 05 min" or "3 d 4 h". */
export function formatDuration(ms: number): string {
  // Each branch rounds to the unit it shows before splitting, so 119.5 min
  // reads "2 h", never "1 h 60 min".
  const value = Math.max(0, ms);
  const seconds = Math.round(value / SECOND_MS);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 600) {
    const wholeMinutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return rest > 0 ? `${wholeMinutes} min ${rest} s` : `${wholeMinutes} min`;
  }

  const minutes = Math.round(value / MINUTE_MS);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) {
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return rest > 0 ? `${hours} h ${String(rest).padStart(2, "0")} min` : `${hours} h`;
  }

  const hours = Math.round(value / HOUR_MS);
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest > 0 ? `${days} d ${rest} h` : `${days} d`;
}

/** Formats how long ago `date` was, relative to `now`, e.g. "5 min ago". */
export function formatAgo(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  if (ms < 45 * SECOND_MS) return "just now";
  if (ms < HOUR_MS) return `${Math.round(ms / MINUTE_MS)} min ago`;
  if (ms < DAY_MS) return `${Math.round(ms / HOUR_MS)} h ago`;
  return `${Math.round(ms / DAY_MS)} d ago`;
}

/** Formats a 0..1 ratio as a percentage with up to `digits` decimals. */
export function formatPercent(ratio: number, digits = 2): string {
  return `${(ratio * 100).toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  })} %`;
}

function fractionDigitsFor(magnitude: number): number {
  if (magnitude >= 100) return 0;
  if (magnitude >= 10) return 1;
  if (magnitude >= 1) return 2;
  return 4;
}

/** Formats a measurement with about four significant digits, e.g. 1,234 or 0.0123. */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e7 || magnitude < 1e-3)) {
    return value.toExponential(2);
  }
  return value.toLocaleString("en-US", {
    maximumFractionDigits: fractionDigitsFor(magnitude),
  });
}

const compactFormat = new Intl.NumberFormat("en-US", {
  notation: "compact",
  maximumFractionDigits: 1,
});

/** Formats a number in at most about five characters, e.g. "450K" or "1.2M", for chart axes. */
export function formatCompact(value: number): string {
  return Math.abs(value) < 1 && value !== 0
    ? formatNumber(value)
    : compactFormat.format(value);
}

/** Formats a rate with one or two decimals, e.g. "3.5". */
export function formatRate(value: number): string {
  return value.toLocaleString("en-US", {
    maximumFractionDigits: value < 10 ? 2 : 1,
  });
}

const dateTimeFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

const dateTimeWithYearFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

/** Formats a time as "4 Dec, 15:32" in the runtime's time zone. */
export function formatDateTime(date: Date | number): string {
  return dateTimeFormat.format(date);
}

/** Formats a time with year and seconds, for tooltips and titles. */
export function formatFullDateTime(date: Date | number): string {
  return dateTimeWithYearFormat.format(date);
}

/** Formats a series' labels as "key=value, key=value"; empty for no labels. */
export function formatLabels(labels: unknown): string {
  if (!labels || typeof labels !== "object") return "";
  return Object.entries(labels as Record<string, unknown>)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(", ");
}

/** Formats an anomaly score or a runbook match score with two decimals. */
export function formatScore(value: number): string {
  return value.toFixed(2);
}

/** Formats a value with `digits` significant digits, e.g. 76.23 or 0.01234. */
export function formatSignificant(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(digits)).toLocaleString("en-US", {
    maximumFractionDigits: 20,
  });
}

/** Formats a model's error threshold with three significant digits, e.g. "0.412". */
export function formatThreshold(value: number): string {
  return value.toPrecision(3);
}
