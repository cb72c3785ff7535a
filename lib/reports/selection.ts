import { ApiError, invalidField } from "@/lib/api/errors";
import { getPool } from "@/lib/db";
import {
  DEFAULT_REPORT_PRESET,
  REPORT_PRESET_KEYS,
  REPORT_PRESETS,
  type ReportPreset,
} from "@/lib/reports/presets";
import { SERVICE_SLUG_PATTERN } from "@/lib/ingest/schemas";
import { DAY_MS } from "@/lib/reports/weeks";
import { findTeamsBySlugs } from "@/lib/teams/store";
import { TEAM_SLUG_PATTERN } from "@/lib/teams/validation";

// The selection of a report: a period [from, to) and a set of services, read
// from the query parameters of the report routes and the /reports page.
//   range     24h, 7d, 30d or 90d, ending now (the default is 7d)
//   from, to  ISO 8601 dates or times, in place of range. A date is a whole
//             UTC day, and a date as `to` includes that day, as on the
//             dashboard: from=2026-11-02&to=2026-11-08 covers 7 days. A time
//             as `to` is the exclusive end.
//   services  comma-separated service slugs
//   teams     comma-separated team slugs, adding every service of each team
// The report covers the union of the named services and the teams'
// services. With neither parameter it covers every service.

/** Maximum length of a report period, in days. */
export const MAX_REPORT_DAYS = 400;

/** Query parameters of a report, as the URL carries them. */
export type ReportQuery = {
  range?: string | null;
  from?: string | null;
  to?: string | null;
  services?: string | null;
  teams?: string | null;
};

export type ReportService = { id: number; slug: string; name: string };

export type ReportTeam = { slug: string; name: string };

export type ReportSelection = {
  from: Date;
  to: Date;
  /** The preset the period came from, or null for from/to. */
  preset: ReportPreset | null;
  /** The selected services in slug order, or every service when `all`. */
  services: ReportService[];
  /** The teams named by `teams`, in slug order; absent or empty when none were named. */
  teams?: ReportTeam[];
  /** True when no service or team was named, so the KPIs cover every service. */
  all: boolean;
};

// A calendar date, or a date and time with seconds, milliseconds and a zone
// optional. A time without a zone is read as UTC.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Earliest and latest year of a report bound. PostgreSQL has no year 0, and
 * Date.UTC reads years 0 to 99 as 1900 to 1999.
 */
const YEAR_MIN = 1970;
const YEAR_MAX = 9999;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Parses an ISO 8601 date or date-time; throws a 400 naming `field`. */
export function parseIsoTime(field: string, raw: string): Date {
  const match = ISO_DATE_TIME.exec(raw);
  const [, year, month, day, hour = "00", minute = "00", second = "00"] =
    match ?? [];
  const millis = (match?.[7] ?? "0").padEnd(3, "0");
  const zone = match?.[8] ?? "Z";
  const date = match
    ? new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${zone}`)
    : null;
  // Date accepts day 31 of a 30-day month by rolling over only in some
  // engines, so the calendar date is checked against the parsed one.
  const calendar = match
    ? new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
    : null;
  if (
    !date ||
    Number.isNaN(date.getTime()) ||
    !calendar ||
    calendar.getUTCDate() !== Number(day) ||
    calendar.getUTCMonth() !== Number(month) - 1
  ) {
    throw invalidField(
      field,
      `${field} must be an ISO 8601 date or time such as 2026-11-02 or ` +
        `2026-11-02T08:00:00Z, got ${JSON.stringify(raw)}`,
    );
  }
  if (Number(year) < YEAR_MIN || Number(year) > YEAR_MAX) {
    throw invalidField(
      field,
      `${field} must be in the years ${YEAR_MIN} to ${YEAR_MAX}, got ${JSON.stringify(raw)}`,
    );
  }
  return date;
}

function isPreset(value: string): value is ReportPreset {
  return Object.hasOwn(REPORT_PRESETS, value);
}

/** Reads the period from range, or from and to; throws a 400 naming the parameter. */
export function parseReportPeriod(
  query: ReportQuery,
  now: Date,
): { from: Date; to: Date; preset: ReportPreset | null } {
  const range = query.range ?? null;
  const fromText = query.from ?? null;
  const toText = query.to ?? null;

  if (range !== null && (fromText !== null || toText !== null)) {
    throw invalidField(
      "range",
      "send either range or from and to, not both",
    );
  }
  if (fromText === null && toText === null) {
    const preset = range ?? DEFAULT_REPORT_PRESET;
    if (!isPreset(preset)) {
      throw invalidField(
        "range",
        `range must be one of ${REPORT_PRESET_KEYS.join(", ")}, got ${JSON.stringify(preset)}`,
      );
    }
    const days = REPORT_PRESETS[preset].days;
    return { from: new Date(now.getTime() - days * DAY_MS), to: now, preset };
  }
  if (fromText === null) throw invalidField("from", "from is required with to");
  if (toText === null) throw invalidField("to", "to is required with from");

  const from = parseIsoTime("from", fromText);
  const toTime = parseIsoTime("to", toText);
  const to = DATE_ONLY.test(toText) ? new Date(toTime.getTime() + DAY_MS) : toTime;
  if (from.getTime() >= to.getTime()) {
    throw invalidField(
      "to",
      `to must be after from, got from ${from.toISOString()} and to ${to.toISOString()}`,
    );
  }
  const days = (to.getTime() - from.getTime()) / DAY_MS;
  if (days > MAX_REPORT_DAYS) {
    throw invalidField(
      "to",
      `the period must be at most ${MAX_REPORT_DAYS} days, got ${Math.ceil(days)} days ` +
        `from ${from.toISOString()} to ${to.toISOString()}`,
    );
  }
  return { from, to, preset: null };
}

const SLUG_LIST_MAX = 200;

/**
 * Splits a comma-separated list of slugs into distinct slugs, or an empty
 * list when the parameter is absent or empty. Throws a 400 naming `field`
 * for an empty item, an item that is not a slug, or too many items.
 */
function parseSlugList(
  field: "services" | "teams",
  raw: string | null | undefined,
): string[] {
  if (raw === null || raw === undefined || raw.trim() === "") return [];
  const noun = field === "services" ? "service" : "team";
  const slugs = [...new Set(raw.split(",").map((slug) => slug.trim()))];
  if (slugs.includes("")) {
    throw invalidField(
      field,
      `${field} must be a comma-separated list of ${noun} slugs without empty items, got ${JSON.stringify(raw)}`,
    );
  }
  const pattern = field === "services" ? SERVICE_SLUG_PATTERN : TEAM_SLUG_PATTERN;
  const invalid = slugs.find((slug) => !pattern.test(slug));
  if (invalid !== undefined) {
    throw invalidField(
      field,
      `${field} names ${JSON.stringify(invalid)}, which is not a ${noun} slug ` +
        "(1 to 63 characters of a-z, 0-9 and -)",
    );
  }
  if (slugs.length > SLUG_LIST_MAX) {
    throw invalidField(
      field,
      `${field} may name at most ${SLUG_LIST_MAX} ${noun}s, got ${slugs.length}`,
    );
  }
  return slugs;
}

/** Splits the services parameter into distinct slugs; empty means every service. */
export function parseServiceSlugs(raw: string | null | undefined): string[] {
  return parseSlugList("services", raw);
}

/** Splits the teams parameter into distinct team slugs. */
export function parseTeamSlugs(raw: string | null | undefined): string[] {
  return parseSlugList("teams", raw);
}

/**
 * Looks up the named services, or all services for an empty list. Throws a
 * 400 naming the first slug that does not exist, as for an unknown team.
 */
export async function loadReportServices(
  slugs: string[],
): Promise<ReportService[]> {
  const { rows } = await getPool().query<ReportService>(
    slugs.length === 0
      ? "SELECT id, slug, name FROM service ORDER BY slug"
      : "SELECT id, slug, name FROM service WHERE slug = ANY($1::text[]) ORDER BY slug",
    slugs.length === 0 ? [] : [slugs],
  );
  const found = new Set(rows.map((row) => row.slug));
  const missing = slugs.find((slug) => !found.has(slug));
  if (missing !== undefined) {
    throw new ApiError(
      400,
      "invalid_field",
      `services names service ${JSON.stringify(missing)}, which does not exist; GET /api/v1/services lists the services`,
      { field: "services" },
    );
  }
  return rows;
}

/**
 * Parses and checks a report's query parameters and loads its services:
 * the named services and every service of the named teams. Throws a 400
 * naming `teams` for a team that does not exist.
 */
export async function resolveReportSelection(
  query: ReportQuery,
  now: Date,
): Promise<ReportSelection> {
  const period = parseReportPeriod(query, now);
  const serviceSlugs = parseServiceSlugs(query.services);
  const teamSlugs = parseTeamSlugs(query.teams);
  if (teamSlugs.length === 0) {
    const services = await loadReportServices(serviceSlugs);
    return { ...period, services, teams: [], all: serviceSlugs.length === 0 };
  }

  const teams = await findTeamsBySlugs(getPool(), teamSlugs, "teams");
  const named = serviceSlugs.length === 0 ? [] : await loadReportServices(serviceSlugs);
  const union = new Map<number, ReportService>();
  for (const service of [...named, ...teams.flatMap((team) => team.services)]) {
    union.set(service.id, { id: service.id, slug: service.slug, name: service.name });
  }
  // A team without services selects no service, not every service.
  const services = [...union.values()].sort((a, b) => a.slug.localeCompare(b.slug));
  return {
    ...period,
    services,
    teams: teams.map(({ slug, name }) => ({ slug, name })),
    all: false,
  };
}
