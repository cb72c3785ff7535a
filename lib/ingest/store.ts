import type pg from "pg";

import { ApiError } from "@/lib/api/errors";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import {
  LABEL_NAME_PATTERN,
  MAX_LABEL_NAME_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_LABELS_KEY_BYTES,
  MAX_METRIC_NAME_LENGTH,
  METRIC_NAME_PATTERN,
  SERVICE_SLUG_PATTERN,
} from "@/lib/ingest/schemas";
import type { SeriesInput, StoreResult } from "@/lib/ingest/series-input";
import { resolveServiceForWrite } from "@/lib/ingest/services";
import { withTransaction } from "@/lib/ingest/transaction";
import type { Logger } from "@/lib/logger";
import {
  ENQUEUE_SCORING_MAX_ATTEMPTS,
  TASK_ENQUEUE_SCORING,
} from "@/lib/queue";

// Stores the series of one metrics request, whatever format it came in:
// validates every series and point first, then writes all of it in one
// transaction or nothing. A point is identified by (series, timestamp), and
// ON CONFLICT DO NOTHING makes a retried request store nothing twice.
//
// A request runs a fixed number of statements, whatever its size. There is
// one lookup per service and one of the series ids missing from the process
// cache. One statement inserts new series, and one inserts all points through
// unnest(). A last one adds a single job that the worker turns into scoring
// jobs. Known series rows are not written at all: the worker moves their
// last_point_at when it scores them.

type Queryable = Pick<pg.ClientBase, "query">;

/** A validated series, merged across repeats within the request. */
type PreparedSeries = {
  /** Service slug, or null for the token's bound service. */
  service: string | null;
  name: string;
  labelsKey: string;
  timestamps: number[];
  values: number[];
  /** The first input of this series, which names it in errors. */
  input: SeriesInput;
  /** True while timestamps and values are the input's own arrays. */
  shared: boolean;
  /** Service slug (or bound service id), name and labels key: the cache key. */
  key: string;
  serviceId?: number;
  seriesId?: number;
};

// Series ids by service slug, name and labels, so that a known series costs
// no lookup. Bounded: past SERIES_CACHE_LIMIT entries the cache starts over.
// An id of a series deleted since then fails the points insert on the
// foreign key, and storeSeries clears the cache and retries once.
// NOTE: ids are never reused by PostgreSQL unless the table is truncated with
// RESTART IDENTITY (tests do, and call clearSeriesCache).
const SERIES_CACHE_LIMIT = 500_000;
const seriesIdCache = new Map<string, number>();

function rememberSeries(entries: PreparedSeries[]): void {
  if (seriesIdCache.size + entries.length > SERIES_CACHE_LIMIT) {
    seriesIdCache.clear();
  }
  for (const entry of entries) seriesIdCache.set(entry.key, entry.seriesId!);
}

// Service ids by slug, filled after commit like the series cache. A service
// deleted since fails the series or points insert on a foreign key, which
// clears both caches and retries.
const serviceIdCache = new Map<string, number>();

/** Forgets every cached series and service id. Tests call it after truncating tables. */
export function clearSeriesCache(): void {
  seriesIdCache.clear();
  serviceIdCache.clear();
}

const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function invalid(field: string, message: string): ApiError {
  return new ApiError(400, "invalid_field", `${field} ${message}`, { field });
}

function describe(text: string): string {
  const quoted = JSON.stringify(text);
  return quoted.length > 60 ? `${quoted.slice(0, 57)}..."` : quoted;
}

function checkText(value: string, field: string): void {
  if (value.includes("\u0000")) {
    throw invalid(field, "must not contain NUL characters");
  }
  if (LONE_SURROGATE.test(value)) {
    throw invalid(
      field,
      "must not contain unpaired UTF-16 surrogates (invalid Unicode)",
    );
  }
}

// Names already checked, because the same few metric and label names repeat
// in every request. Bounded like the series cache.
const NAME_CACHE_LIMIT = 50_000;
const checkedMetricNames = new Set<string>();
const checkedLabelNames = new Set<string>();

function remember(names: Set<string>, name: string): void {
  if (names.size >= NAME_CACHE_LIMIT) names.clear();
  names.add(name);
}

// Labels key and cache key by service and SeriesInput.identity, for the
// receivers that give one: a series seen before skips labelsKeyOf.
type KnownIdentity = { labelsKey: string; key: string };
const identityCache = new Map<string, Map<string, KnownIdentity>>();
let identityCount = 0;

function rememberIdentity(
  service: string,
  identity: string,
  known: KnownIdentity,
): void {
  if (identityCount >= SERIES_CACHE_LIMIT) {
    identityCache.clear();
    identityCount = 0;
  }
  let byIdentity = identityCache.get(service);
  if (byIdentity === undefined) {
    byIdentity = new Map();
    identityCache.set(service, byIdentity);
  }
  byIdentity.set(identity, known);
  identityCount += 1;
}

/** Characters that need a closer look: NUL and UTF-16 surrogates. */
const SUSPECT_CHARACTER = /[\u0000\uD800-\uDFFF]/;

/**
 * Checks a label set and returns its canonical key: JSON with sorted names,
 * the same text JSON.stringify gives for an object with sorted keys, which is
 * the form the JSON API has always stored.
 */
function labelsKeyOf(labels: Record<string, string>, field: string): string {
  const names = Object.keys(labels).sort();
  if (names.length > MAX_LABELS) {
    throw invalid(
      `${field}.labels`,
      `must contain at most ${MAX_LABELS} labels, got ${names.length}`,
    );
  }
  let key = "{";
  for (const name of names) {
    const value = labels[name];
    if (!checkedLabelNames.has(name)) {
      if (
        name.length > MAX_LABEL_NAME_LENGTH ||
        !LABEL_NAME_PATTERN.test(name) ||
        name.startsWith("__")
      ) {
        throw invalid(
          `${field}.labels`,
          `has an invalid label name ${describe(name)}: label names must match ` +
            "[a-zA-Z_][a-zA-Z0-9_]*, not start with __ and have at most " +
            `${MAX_LABEL_NAME_LENGTH} characters`,
        );
      }
      remember(checkedLabelNames, name);
    }
    if (typeof value !== "string") {
      throw invalid(`${field}.labels.${name}`, "must be a string");
    }
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      throw invalid(
        `${field}.labels.${name}`,
        `must be at most ${MAX_LABEL_VALUE_LENGTH} characters, ` +
          `got ${value.length}`,
      );
    }
    if (SUSPECT_CHARACTER.test(value)) {
      checkText(value, `${field}.labels.${name}`);
    }
    // Label names match [a-zA-Z0-9_], so they need no JSON escaping.
    key += `${key.length === 1 ? "" : ","}"${name}":${JSON.stringify(value)}`;
  }
  key += "}";

  // UTF-8 takes at most 3 bytes per UTF-16 code unit, so short keys are
  // under the limit without counting.
  if (key.length * 3 > MAX_LABELS_KEY_BYTES) {
    const bytes = Buffer.byteLength(key, "utf8");
    if (bytes > MAX_LABELS_KEY_BYTES) {
      throw invalid(
        `${field}.labels`,
        `encode to ${bytes} bytes of JSON, more than the limit of ` +
          `${MAX_LABELS_KEY_BYTES}; shorten the label values`,
      );
    }
  }
  return key;
}

type Limits = {
  minMs: number;
  maxMs: number;
  maxAgeDays: number;
  maxFutureMinutes: number;
  maxPoints: number;
};

/** Throws a 400 naming the point when `ms` is outside the accepted window. */
function rejectTime(ms: number, field: string, limits: Limits): never {
  if (!Number.isFinite(ms)) {
    throw invalid(field, `must be a time, got ${String(ms)}`);
  }
  // Date covers 8.64e15 ms either side of 1970; int64 senders can go past it.
  const received =
    Math.abs(ms) <= 8.64e15 ? `${ms} (${new Date(ms).toISOString()})` : `${ms}`;
  if (ms < limits.minMs) {
    throw invalid(
      field,
      `must not be older than ${limits.maxAgeDays} days ` +
        `(VIGIL_INGEST_MAX_AGE_DAYS), got ${received}`,
    );
  }
  if (ms > limits.maxMs) {
    throw invalid(
      field,
      `must not be later than ${limits.maxFutureMinutes} minutes from now ` +
        `(VIGIL_INGEST_MAX_FUTURE_MINUTES), got ${received}`,
    );
  }
  throw new Error(`rejectTime called with an accepted time ${ms}`);
}

type Prepared = {
  series: PreparedSeries[];
  points: number;
  skippedNonFinite: number;
};

/**
 * Validates every input and merges series that repeat within the request.
 * `boundService` stands for the token's bound service in cache keys.
 */
function prepare(
  inputs: readonly SeriesInput[],
  limits: Limits,
  boundService: string,
): Prepared {
  let total = 0;
  for (const input of inputs) total += input.values.length;
  if (total > limits.maxPoints) {
    throw new ApiError(
      413,
      "too_many_points",
      `request contains ${total} points, more than the limit of ` +
        `${limits.maxPoints} (VIGIL_INGEST_MAX_POINTS); ` +
        "split it into smaller requests",
    );
  }

  const byKey = new Map<string, PreparedSeries>();
  let points = 0;
  let skippedNonFinite = 0;
  for (const input of inputs) {
    if (input.service !== null && !SERVICE_SLUG_PATTERN.test(input.service)) {
      throw invalid(
        input.serviceField ?? `${input.field}.service`,
        "must be 1 to 63 characters of lowercase a-z, 0-9 and '-', " +
          `got ${describe(input.service)}`,
      );
    }
    if (!checkedMetricNames.has(input.name)) {
      if (
        input.name.length > MAX_METRIC_NAME_LENGTH ||
        !METRIC_NAME_PATTERN.test(input.name)
      ) {
        throw invalid(
          `${input.field}.name`,
          "must be a Prometheus metric name matching [a-zA-Z_:][a-zA-Z0-9_:]* " +
            `of at most ${MAX_METRIC_NAME_LENGTH} characters, ` +
            `got ${describe(input.name)}`,
        );
      }
      remember(checkedMetricNames, input.name);
    }
    if (input.timestamps.length !== input.values.length) {
      throw new Error(
        `${input.field}: ${input.timestamps.length} timestamps for ` +
          `${input.values.length} values`,
      );
    }
    const serviceKey = input.service ?? boundService;
    let labelsKey: string;
    let key: string;
    const known =
      input.identity === undefined
        ? undefined
        : identityCache.get(serviceKey)?.get(input.identity);
    if (known !== undefined) {
      ({ labelsKey, key } = known);
    } else {
      labelsKey = labelsKeyOf(input.labels, input.field);
      key = `${serviceKey}\u0000${input.name}\u0000${labelsKey}`;
      if (input.identity !== undefined) {
        rememberIdentity(serviceKey, input.identity, { labelsKey, key });
      }
    }

    // The hot loop of ingest: field names are built only for an error.
    const { minMs, maxMs } = limits;
    const { timestamps, values } = input;
    let clean = true;
    for (let i = 0; i < values.length; i += 1) {
      const ms = timestamps[i]!;
      if (!(ms >= minMs && ms <= maxMs)) {
        const timeField =
          input.pointField?.(i) ?? `${input.field}.points[${i}].timestamp`;
        rejectTime(Math.floor(ms), timeField, limits);
      }
      if (!Number.isFinite(values[i]!) || !Number.isInteger(ms)) clean = false;
    }

    let series = byKey.get(key);
    if (series === undefined && clean) {
      // Most series arrive once per request with valid points, so their
      // arrays are shared with the input instead of copied.
      byKey.set(key, {
        service: input.service,
        name: input.name,
        labelsKey,
        timestamps,
        values,
        input,
        shared: true,
        key,
      });
      points += values.length;
      continue;
    }
    if (series === undefined) {
      series = {
        service: input.service,
        name: input.name,
        labelsKey,
        timestamps: [],
        values: [],
        input,
        shared: false,
        key,
      };
      byKey.set(key, series);
    } else if (series.shared) {
      series.timestamps = [...series.timestamps];
      series.values = [...series.values];
      series.shared = false;
    }
    for (let i = 0; i < values.length; i += 1) {
      const value = values[i]!;
      if (!Number.isFinite(value)) {
        skippedNonFinite += 1;
        continue;
      }
      series.timestamps.push(Math.floor(timestamps[i]!));
      series.values.push(value);
      points += 1;
    }
  }
  // A series whose samples were all NaN or infinite (such as Prometheus
  // stale markers) has nothing to store, so it creates no series either.
  const series = [...byKey.values()].filter(
    (entry) => entry.timestamps.length > 0,
  );
  return { series, points, skippedNonFinite };
}

/** Resolves each distinct service of the request to its id, in slug order. */
async function resolveServices(
  db: Queryable,
  series: PreparedSeries[],
  token: ApiToken,
  log: Logger,
): Promise<{ names: string[]; resolved: Map<string, number> }> {
  const slugs = new Map<string | null, PreparedSeries>();
  for (const entry of series) {
    if (!slugs.has(entry.service)) slugs.set(entry.service, entry);
  }

  const ids = new Map<string | null, number>();
  const names: string[] = [];
  const ordered = [...slugs.keys()].sort((a, b) =>
    (a ?? "").localeCompare(b ?? ""),
  );
  for (const slug of ordered) {
    const { input } = slugs.get(slug)!;
    const field = input.field;
    const serviceField = input.serviceField ?? `${field}.service`;
    if (slug === null) {
      if (token.serviceId === null) {
        throw new ApiError(
          400,
          "missing_service",
          `${field} names no service: add a service or job label ` +
            "(service.name for OTLP), pass ?service=<slug> in the URL, " +
            "or use a token bound to one service",
          { field },
        );
      }
      const { rows } = await db.query<{ slug: string }>(
        "SELECT slug FROM service WHERE id = $1",
        [token.serviceId],
      );
      ids.set(null, token.serviceId);
      names.push(rows[0]?.slug ?? String(token.serviceId));
      continue;
    }
    // A bound token always goes through resolveServiceForWrite, which
    // checks the slug against the token's service.
    const cached = token.serviceId === null ? serviceIdCache.get(slug) : undefined;
    if (cached !== undefined) {
      ids.set(slug, cached);
      names.push(slug);
      continue;
    }
    const service = await resolveServiceForWrite(
      db,
      slug,
      token,
      serviceField,
    );
    if (service.created) {
      log.info({ serviceId: service.id, slug }, "created service");
    }
    ids.set(slug, service.id);
    names.push(slug);
  }
  for (const entry of series) entry.serviceId = ids.get(entry.service)!;

  const resolved = new Map<string, number>();
  for (const [slug, id] of ids) if (slug !== null) resolved.set(slug, id);
  return { names: [...new Set(names)].sort(), resolved };
}

/**
 * Fills seriesId from the cache, then from the database, and inserts the
 * series that do not exist yet within the new-series-per-hour limit.
 * Returns the series that were not in the cache and, among them, the ones
 * this request created.
 */
async function resolveSeries(
  db: Queryable,
  series: PreparedSeries[],
  maxNewPerHour: number,
): Promise<{ unknown: PreparedSeries[]; created: PreparedSeries[] }> {
  const unknown: PreparedSeries[] = [];
  for (const entry of series) {
    const id = seriesIdCache.get(entry.key);
    if (id === undefined) unknown.push(entry);
    else entry.seriesId = id;
  }
  if (unknown.length === 0) return { unknown, created: [] };

  const found = await db.query<{ ordinal: string; id: number }>(
    `SELECT input.ordinal, s.id
       FROM unnest($1::int[], $2::text[], $3::text[])
            WITH ORDINALITY AS input(service_id, name, labels_key, ordinal)
       JOIN metric_series s USING (service_id, name, labels_key)`,
    [
      unknown.map((entry) => entry.serviceId!),
      unknown.map((entry) => entry.name),
      unknown.map((entry) => entry.labelsKey),
    ],
  );
  for (const row of found.rows) {
    unknown[Number(row.ordinal) - 1]!.seriesId = row.id;
  }
  const missing = unknown.filter((entry) => entry.seriesId === undefined);
  if (missing.length === 0) return { unknown, created: [] };

  // The service row lock serialises requests that create series of one
  // service, so that two of them cannot both pass the limit.
  const perService = new Map<number, PreparedSeries[]>();
  for (const entry of missing) {
    const list = perService.get(entry.serviceId!) ?? [];
    list.push(entry);
    perService.set(entry.serviceId!, list);
  }
  for (const serviceId of [...perService.keys()].sort((a, b) => a - b)) {
    const created = perService.get(serviceId)!;
    // The count is a statement of its own: a statement that waited for the
    // lock would still count with the snapshot it took before waiting, and
    // miss the series of the request that held the lock.
    await db.query("SELECT 1 FROM service WHERE id = $1 FOR NO KEY UPDATE", [
      serviceId,
    ]);
    const { rows } = await db.query<{ slug: string; recent: string }>(
      `SELECT s.slug,
              (SELECT count(*) FROM metric_series m
                WHERE m.service_id = s.id
                  AND m.created_at > now() - interval '1 hour') AS recent
         FROM service s WHERE s.id = $1`,
      [serviceId],
    );
    const recent = Number(rows[0]?.recent ?? 0);
    if (recent + created.length > maxNewPerHour) {
      throw new ApiError(
        429,
        "too_many_new_series",
        `service "${rows[0]?.slug}" may create at most ${maxNewPerHour} new ` +
          "series per hour (VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR); it created " +
          `${recent} in the last hour and this request adds ${created.length}, ` +
          `such as ${created[0]!.name}${created[0]!.labelsKey}. ` +
          "Check for a label with unbounded values",
        {
          field: created[0]!.input.field,
          headers: { "retry-after": "3600" },
          logContext: { serviceId, recent, requested: created.length },
        },
      );
    }
  }

  // Inserted in key order, so that concurrent requests creating the same
  // series take their index locks in one order. A concurrent insert of the
  // same series makes ON CONFLICT update it in place, which returns its id
  // all the same. DISTINCT covers a bound token's series that arrive both
  // with and without the service's slug.
  const inserted = await db.query<{ id: number; ordinal: string }>(
    `WITH input AS (
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[])
         WITH ORDINALITY AS t(service_id, name, labels_key, ordinal)
     ), upserted AS (
       INSERT INTO metric_series (service_id, name, labels, labels_key)
       SELECT DISTINCT ON (service_id, name, labels_key)
              service_id, name, labels_key::jsonb AS labels, labels_key
         FROM input ORDER BY service_id, name, labels_key
       ON CONFLICT (service_id, name, labels_key)
         DO UPDATE SET name = EXCLUDED.name
       RETURNING id, service_id, name, labels_key
     )
     SELECT upserted.id, input.ordinal
       FROM upserted JOIN input USING (service_id, name, labels_key)`,
    [
      missing.map((entry) => entry.serviceId!),
      missing.map((entry) => entry.name),
      missing.map((entry) => entry.labelsKey),
    ],
  );
  for (const row of inserted.rows) {
    missing[Number(row.ordinal) - 1]!.seriesId = row.id;
  }
  return { unknown, created: missing };
}

/** Formats finite numbers as a PostgreSQL array literal, such as {1,2.5}. */
function arrayLiteral(numbers: readonly number[]): string {
  return `{${numbers.join(",")}}`;
}

/**
 * Inserts every point with one statement, in (series, time) order so that
 * two requests with common points wait on each other instead of
 * deadlocking. Returns the ids of series that got new points and how many
 * points were stored.
 */
async function insertPoints(
  db: Queryable,
  series: PreparedSeries[],
): Promise<number> {
  const ordered = [...series].sort((a, b) => a.seriesId! - b.seriesId!);
  let count = 0;
  for (const entry of ordered) count += entry.timestamps.length;
  const ids = new Array<number>(count);
  const times = new Array<number>(count);
  const values = new Array<number>(count);
  let at = 0;
  for (const entry of ordered) {
    const { timestamps } = entry;
    let sorted = true;
    for (let i = 1; i < timestamps.length && sorted; i += 1) {
      sorted = timestamps[i - 1]! <= timestamps[i]!;
    }
    if (sorted) {
      for (let i = 0; i < timestamps.length; i += 1) {
        ids[at] = entry.seriesId!;
        times[at] = timestamps[i]!;
        values[at] = entry.values[i]!;
        at += 1;
      }
      continue;
    }
    const order = timestamps.map((_, i) => i);
    order.sort((a, b) => timestamps[a]! - timestamps[b]!);
    for (const i of order) {
      ids[at] = entry.seriesId!;
      times[at] = timestamps[i]!;
      values[at] = entry.values[i]!;
      at += 1;
    }
  }

  // The arrays go as PostgreSQL array literals built with join(), which is
  // several times cheaper than letting pg quote each element. Times travel as
  // epoch milliseconds: to_timestamp(ms / 1000) is exact to the millisecond
  // for every time ingest accepts, and it avoids a Date per point.
  // The same statement adds the one job that has the worker score every
  // series that got new points, so a request of duplicates adds none.
  const { rows } = await db.query<{ inserted: string }>(
    `WITH inserted AS (
       INSERT INTO data_point (series_id, ts, value)
       SELECT series_id, to_timestamp(ms / 1000), value
         FROM unnest($1::int[], $2::float8[], $3::float8[])
              AS input(series_id, ms, value)
       ON CONFLICT (series_id, ts) DO NOTHING
       RETURNING series_id
     ), changed AS (
       SELECT count(*) AS inserted,
              array_agg(DISTINCT series_id ORDER BY series_id) AS ids
         FROM inserted
     )
     SELECT inserted,
            CASE WHEN ids IS NOT NULL THEN
              (graphile_worker.add_job($4::text,
                 json_build_object('seriesIds', ids),
                 max_attempts := $5::int)).id
            END AS job_id
       FROM changed`,
    [
      arrayLiteral(ids),
      arrayLiteral(times),
      arrayLiteral(values),
      TASK_ENQUEUE_SCORING,
      ENQUEUE_SCORING_MAX_ATTEMPTS,
    ],
  );
  return Number(rows[0]!.inserted);
}

const FOREIGN_KEY_VIOLATION = "23503";

/**
 * Validates and stores the series of one request with `token`, creating
 * services and series on first use, and enqueues scoring for every series
 * that got new points, in the same transaction. Throws ApiError (400, 403,
 * 413, 429) on a request it rejects, in which case nothing is stored.
 */
export async function storeSeries(
  inputs: readonly SeriesInput[],
  token: ApiToken,
  log: Logger,
  options: { now?: number } = {},
): Promise<StoreResult> {
  const config = getConfig();
  const now = options.now ?? Date.now();
  const prepared = prepare(
    inputs,
    {
      minMs: now - config.VIGIL_INGEST_MAX_AGE_DAYS * 86_400_000,
      maxMs: now + config.VIGIL_INGEST_MAX_FUTURE_MINUTES * 60_000,
      maxAgeDays: config.VIGIL_INGEST_MAX_AGE_DAYS,
      maxFutureMinutes: config.VIGIL_INGEST_MAX_FUTURE_MINUTES,
      maxPoints: config.VIGIL_INGEST_MAX_POINTS,
    },
    // Not a valid slug, so it cannot collide with one.
    `#${token.serviceId ?? ""}`,
  );

  const attempt = () =>
    withTransaction(getPool(), async (client) => {
      const services = await resolveServices(
        client,
        prepared.series,
        token,
        log,
      );
      const { unknown, created } = await resolveSeries(
        client,
        prepared.series,
        config.VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR,
      );
      const inserted = await insertPoints(client, prepared.series);
      return { services, unknown, created, inserted };
    });

  let written: Awaited<ReturnType<typeof attempt>>;
  try {
    written = await attempt();
  } catch (error) {
    if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) {
      throw error;
    }
    // A cached id points at a series deleted since; look them all up again.
    log.info("series cache was stale; retrying with fresh lookups");
    clearSeriesCache();
    for (const entry of prepared.series) entry.seriesId = undefined;
    written = await attempt();
  }
  rememberSeries(written.unknown);
  for (const [slug, id] of written.services.resolved) serviceIdCache.set(slug, id);

  const result: StoreResult = {
    series: prepared.series.length,
    newSeries: written.created.length,
    insertedPoints: written.inserted,
    duplicatePoints: prepared.points - written.inserted,
    skippedNonFinite: prepared.skippedNonFinite,
    services: written.services.names,
  };
  if (result.newSeries > 0) {
    log.info(
      { newSeries: result.newSeries, services: result.services },
      "created series",
    );
  }
  // Routine at the rate exporters send; rejections are logged at warn.
  log.debug(result, "stored metrics");
  return result;
}
