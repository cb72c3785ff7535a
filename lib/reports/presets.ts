// Period presets and the query string of a report selection. Pure, so that
// the /reports page's client components can import them.

export const REPORT_PRESETS = {
  "24h": { label: "Last 24 hours", days: 1 },
  "7d": { label: "Last 7 days", days: 7 },
  "30d": { label: "Last 30 days", days: 30 },
  "90d": { label: "Last 90 days", days: 90 },
} as const;

export type ReportPreset = keyof typeof REPORT_PRESETS;

export const REPORT_PRESET_KEYS = Object.keys(REPORT_PRESETS) as ReportPreset[];
export const DEFAULT_REPORT_PRESET: ReportPreset = "7d";

/**
 * A selection as the URL carries it: a preset, or from and to, and service
 * slugs and team slugs (no teams when `teams` is absent).
 */
export type ReportLinkParams =
  | { range: ReportPreset; services: string[]; teams?: string[] }
  | { from: string; to: string; services: string[]; teams?: string[] };

/** Builds the query string of a report URL, without the leading "?". */
export function reportQueryString(params: ReportLinkParams): string {
  const query = new URLSearchParams();
  if ("range" in params) {
    query.set("range", params.range);
  } else {
    query.set("from", params.from);
    query.set("to", params.to);
  }
  if (params.services.length > 0) query.set("services", params.services.join(","));
  if (params.teams && params.teams.length > 0) query.set("teams", params.teams.join(","));
  return query.toString();
}
