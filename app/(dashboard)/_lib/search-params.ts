// Parsing of the search parameters that the dashboard pages share: the time
// range presets and the service filter.

import { parseRfc3339 } from "@/lib/ingest/timestamps";

export type SearchParams = Record<string, string | string[] | undefined>;

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Range presets. trendBuckets is the number of points in each KPI card's
 * trend chart: hourly for 24 h, 6-hourly for 7 d, daily for 30 d and
 * 3-daily for 90 d.
 */
export const RANGE_PRESETS = {
  "24h": {
    label: "24 h",
    description: "last 24 hours",
    ms: DAY_MS,
    trendBuckets: 24,
  },
  "7d": {
    label: "7 d",
    description: "last 7 days",
    ms: 7 * DAY_MS,
    trendBuckets: 28,
  },
  "30d": {
    label: "30 d",
    description: "last 30 days",
    ms: 30 * DAY_MS,
    trendBuckets: 30,
  },
  "90d": {
    label: "90 d",
    description: "last 90 days",
    ms: 90 * DAY_MS,
    trendBuckets: 30,
  },
} as const;

export type RangeKey = keyof typeof RANGE_PRESETS;

export const RANGE_KEYS = Object.keys(RANGE_PRESETS) as RangeKey[];

export const DEFAULT_RANGE: RangeKey = "7d";

/** Returns the first value of a search parameter that may repeat. */
export function firstParam(
  value: string | string[] | undefined,
): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function isRangeKey(value: string | undefined): value is RangeKey {
  return value !== undefined && value in RANGE_PRESETS;
}

/** Reads ?range=, falling back to `fallback` when it is missing or unknown. */
export function parseRange(
  params: SearchParams,
  fallback: RangeKey = DEFAULT_RANGE,
): RangeKey {
  const value = firstParam(params.range);
  return isRangeKey(value) ? value : fallback;
}

export function rangeBounds(key: RangeKey, now: Date = new Date()) {
  return { from: new Date(now.getTime() - RANGE_PRESETS[key].ms), to: now };
}

/** Maximum length of a custom range, so that a typo in a year cannot request decades. */
export const MAX_CUSTOM_RANGE_DAYS = 400;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A range picked on the dashboard: a preset ending now, or a custom
 * [from, to) from ?from= and ?to=. error is set when the custom range was
 * invalid, in which case the selection is the fallback preset.
 */
export type RangeSelection = {
  key: RangeKey | "custom";
  from: Date;
  to: Date;
  /** Words for the page description, such as "last 7 days". */
  description: string;
  trendBuckets: number;
  /** Search parameters that select this range again. */
  query: { range: string; from?: string; to?: string };
  error?: string;
};

/**
 * Parses a custom range bound: a date (YYYY-MM-DD, UTC) or an RFC 3339
 * timestamp. A date as `to` means the end of that day, so that from and to
 * of one day select the whole day. Returns null for anything else.
 */
export function parseRangeBound(
  value: string,
  side: "from" | "to",
): Date | null {
  const date = DATE_ONLY.exec(value);
  if (date) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const ms = Date.UTC(year, month - 1, day);
    const parsed = new Date(ms);
    // Date.UTC rolls 2026-02-31 over to March, which is not what was typed.
    if (parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== day) {
      return null;
    }
    return side === "to" ? new Date(ms + DAY_MS) : parsed;
  }
  const ms = parseRfc3339(value);
  return ms === null ? null : new Date(ms);
}

/**
 * Picks the number of trend buckets for a range of `ms` milliseconds: the
 * finest of hourly, 6-hourly, daily, 3-daily and weekly buckets that gives
 * at most 60 of them.
 */
export function trendBucketsFor(ms: number): number {
  const sizes = [HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS, 7 * DAY_MS];
  const size = sizes.find((candidate) => ms / candidate <= 60) ?? 7 * DAY_MS;
  return Math.min(60, Math.max(1, Math.round(ms / size)));
}

function presetSelection(key: RangeKey, now: Date): RangeSelection {
  return {
    key,
    ...rangeBounds(key, now),
    description: RANGE_PRESETS[key].description,
    trendBuckets: RANGE_PRESETS[key].trendBuckets,
    query: { range: key },
  };
}

/** Formats a range bound for the page: a date when it is a UTC midnight. */
export function formatRangeBound(date: Date): string {
  const iso = date.toISOString();
  if (iso.endsWith("T00:00:00.000Z")) return iso.slice(0, 10);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * Reads the range of a dashboard page: ?from= and ?to= (or ?range=custom
 * with both) select a custom range, else ?range= picks a preset. An
 * invalid custom range falls back to `fallback` with an error to show.
 */
export function parseRangeSelection(
  params: SearchParams,
  now: Date = new Date(),
  fallback: RangeKey = DEFAULT_RANGE,
): RangeSelection {
  const fromText = firstParam(params.from)?.trim();
  const toText = firstParam(params.to)?.trim();
  const range = firstParam(params.range);
  if (!fromText && !toText && range !== "custom") {
    return presetSelection(isRangeKey(range) ? range : fallback, now);
  }

  const invalid = (error: string): RangeSelection => ({
    ...presetSelection(fallback, now),
    error: `${error} Showing the ${RANGE_PRESETS[fallback].description} instead.`,
  });
  if (!fromText) return invalid("The custom range needs a start date (from).");
  if (!toText) return invalid("The custom range needs an end date (to).");

  const from = parseRangeBound(fromText, "from");
  if (from === null) {
    return invalid(
      `The start date "${fromText}" is not a valid date: use YYYY-MM-DD.`,
    );
  }
  const to = parseRangeBound(toText, "to");
  if (to === null) {
    return invalid(`The end date "${toText}" is not a valid date: use YYYY-MM-DD.`);
  }
  if (to.getTime() <= from.getTime()) {
    return invalid(
      `The end date ${toText} must not be before the start date ${fromText}.`,
    );
  }
  const ms = to.getTime() - from.getTime();
  if (ms > MAX_CUSTOM_RANGE_DAYS * DAY_MS) {
    return invalid(
      `The custom range may span at most ${MAX_CUSTOM_RANGE_DAYS} days.`,
    );
  }

  const shownTo = DATE_ONLY.test(toText)
    ? formatRangeBound(new Date(to.getTime() - DAY_MS))
    : formatRangeBound(to);
  const shownFrom = formatRangeBound(from);
  return {
    key: "custom",
    from,
    to,
    description:
      shownFrom === shownTo ? shownFrom : `${shownFrom} to ${shownTo}`,
    trendBuckets: trendBucketsFor(ms),
    query: { range: "custom", from: fromText, to: toText },
  };
}

/** Builds `path?query` from the parameters that have a value. */
export function buildHref(
  path: string,
  params: Record<string, string | number | undefined | null>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      query.set(key, String(value));
    }
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
