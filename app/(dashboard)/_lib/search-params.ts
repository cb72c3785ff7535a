// Parsing of the search parameters that the dashboard pages share: the time
// range presets and the service filter.

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
