import type {
  SloAvailabilitySource,
  SloKind,
} from "@/lib/generated/prisma/enums";

// What each kind of SLO counts, and the defaults of its burn-rate alerts.
// Every kind reduces a time range [from, to) to a number of good and bad
// units (requests, seconds or points). For an SLO with target T:
//   attainment        = 1 - bad / total
//   error budget      = (1 - T) * total, in the kind's unit
//   budget remaining  = error budget - bad, and as a fraction 1 - bad / error budget
//   burn rate         = (bad / total) / (1 - T)
// A burn rate of 1 uses up the budget exactly at the end of the window.

export type SloUnit = "requests" | "seconds" | "points";

/** The good and bad units of one SLO over one range; total = good + bad. */
export type SloMeasure = { total: number; bad: number };

export const SLO_KIND_DEFINITIONS = {
  requests:
    "Availability from requests: over the range, bad is the sum of the points " +
    "of the service's error-metric series and total the sum of the points of " +
    "its request-metric series, the same sums as the error-rate KPI. Both " +
    "metrics must be per-interval counts.",
  incidents:
    "Availability from incidents: total is the length of the range in " +
    "seconds, and bad the length of the union of the intervals during which " +
    "a service-impacting incident of the service was open, as the uptime KPI " +
    "counts downtime. Incidents that SLO burns open do not count, because " +
    "they are not service-impacting.",
  latency:
    "Latency: total is the number of points of the service's series with the " +
    "latency metric's name (every label set) in the range, and bad the number " +
    "of those points whose value is above the threshold. Each point is one " +
    "interval of the series, so this is the share of intervals at or under " +
    "the threshold.",
} as const;

/** Burn-rate alert defaults: the multiwindow alerts of the Google SRE workbook. */
export const SLO_DEFAULTS = {
  fastBurnRate: 14.4,
  fastLongMinutes: 60,
  fastShortMinutes: 5,
  slowBurnRate: 6,
  slowLongMinutes: 360,
  slowShortMinutes: 30,
} as const;

export const SLO_MAX_WINDOW_DAYS = 366;

/** Returns the unit an SLO counts in. */
export function sloUnit(
  kind: SloKind,
  source: SloAvailabilitySource | null,
): SloUnit {
  if (kind === "latency") return "points";
  return source === "incidents" ? "seconds" : "requests";
}
