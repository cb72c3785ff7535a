import { ApiError } from "@/lib/api/errors";
import { SERVICE_SLUG_PATTERN } from "@/lib/ingest/schemas";

// Which Vigil service a series from Prometheus or OpenTelemetry belongs to.
// In order: the receiver URL's ?service= parameter, the service the API
// token is bound to, then the series' own identity: the `service` label,
// then `job` for Prometheus formats, or the resource attribute service.name
// for OTLP. Label values are turned into slugs ("Checkout API" becomes
// "checkout-api"), because service slugs are lowercase a-z, 0-9 and '-'.

/** Turns a free-form name into a service slug, or null when nothing is left. */
export function slugify(name: string): string | null {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return slug === "" ? null : slug;
}

/**
 * Reads ?service= from a receiver URL. Returns null when it is absent and
 * throws a 400 when it is not a valid slug.
 */
export function serviceFromQuery(request: Request): string | null {
  const value = new URL(request.url).searchParams.get("service");
  if (value === null) return null;
  if (!SERVICE_SLUG_PATTERN.test(value)) {
    throw new ApiError(
      400,
      "invalid_field",
      "query parameter service must be 1 to 63 characters of lowercase " +
        `a-z, 0-9 and '-', got ${JSON.stringify(value.slice(0, 60))}`,
      { field: "service" },
    );
  }
  return value;
}

/**
 * Picks the service slug of one series from its candidate names, in order,
 * such as [labels.service, labels.job]. Returns null when none of them gives
 * a slug; storeSeries then uses the token's bound service or rejects the
 * series. `forced` (from ?service= or a bound token) wins over everything.
 */
export function chooseServiceSlug(
  forced: string | null,
  candidates: readonly (string | undefined)[],
): string | null {
  if (forced !== null) return forced;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const slug = slugify(candidate);
    if (slug !== null) return slug;
  }
  return null;
}
