// Timestamps accepted by the ingest API: an RFC 3339 string with a time zone
// ("2026-12-04T10:00:00Z", "2026-12-04T11:00:00.250+01:00") or epoch
// milliseconds as an integer. Fractions below a millisecond are truncated,
// because points are stored with millisecond precision.

const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Values below this many epoch milliseconds (1973-03-03) are likely seconds. */
const EPOCH_SECONDS_HINT_BELOW = 1e11;

export const TIMESTAMP_FORMAT_HELP =
  "an RFC 3339 timestamp with a time zone (such as 2026-12-04T10:00:00Z) " +
  "or epoch milliseconds";

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Parses an RFC 3339 timestamp with a time zone into epoch milliseconds.
 * Returns null when the text is not one or names an impossible date.
 */
export function parseRfc3339(text: string): number | null {
  const match = RFC_3339.exec(text);
  if (!match) return null;

  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (month < 1 || month > 12) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;

  let offsetMinutes = 0;
  if (match[8] === undefined) {
    const offsetHours = Number(match[10]);
    const offsetRest = Number(match[11]);
    if (offsetHours > 23 || offsetRest > 59) return null;
    offsetMinutes = offsetHours * 60 + offsetRest;
    if (match[9] === "-") offsetMinutes = -offsetMinutes;
  }

  const fraction = match[7];
  const millis =
    fraction === undefined ? 0 : Number(fraction.slice(1, 4).padEnd(3, "0"));
  // Date.UTC maps years 0 to 99 to 1900 to 1999, so those take setUTCFullYear.
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    const date = new Date(utc);
    date.setUTCFullYear(year);
    utc = date.getTime();
  }
  return utc - offsetMinutes * 60_000;
}

export type TimestampLimits = {
  /** Earliest accepted time, epoch milliseconds. */
  minMs: number;
  /** Latest accepted time, epoch milliseconds. */
  maxMs: number;
  maxAgeDays: number;
  maxFutureMinutes: number;
};

export function timestampLimits(
  now: number,
  maxAgeDays: number,
  maxFutureMinutes: number,
): TimestampLimits {
  return {
    minMs: now - maxAgeDays * 86_400_000,
    maxMs: now + maxFutureMinutes * 60_000,
    maxAgeDays,
    maxFutureMinutes,
  };
}

export type TimestampResult =
  | { ok: true; ms: number }
  | { ok: false; message: string };

function received(input: unknown): string {
  if (typeof input === "string") return JSON.stringify(input);
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  return typeof input === "object" ? "an object" : String(input);
}

/**
 * Validates one timestamp of an ingest request against the format and the
 * accepted time window. Error messages are predicates that follow the field
 * path, and each names the received value.
 */
export function checkTimestamp(
  input: unknown,
  limits: TimestampLimits,
): TimestampResult {
  let ms: number | null = null;
  if (typeof input === "string") {
    ms = parseRfc3339(input);
  } else if (typeof input === "number" && Number.isSafeInteger(input)) {
    ms = input;
  }
  if (ms === null) {
    return {
      ok: false,
      message: `must be ${TIMESTAMP_FORMAT_HELP}, got ${received(input)}`,
    };
  }

  if (ms < limits.minMs) {
    const hint =
      typeof input === "number" && input < EPOCH_SECONDS_HINT_BELOW
        ? "; it looks like epoch seconds, send milliseconds"
        : "";
    return {
      ok: false,
      message:
        `must not be older than ${limits.maxAgeDays} days ` +
        `(VIGIL_INGEST_MAX_AGE_DAYS), got ${received(input)}${hint}`,
    };
  }
  if (ms > limits.maxMs) {
    return {
      ok: false,
      message:
        `must not be later than ${limits.maxFutureMinutes} minutes from now ` +
        `(VIGIL_INGEST_MAX_FUTURE_MINUTES), got ${received(input)}`,
    };
  }
  return { ok: true, ms };
}
