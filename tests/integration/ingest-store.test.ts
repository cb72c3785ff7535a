import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { createApiToken } from "@/lib/auth/api-token";
import { closeDb, getPool, getPrisma } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import { canonicalLabelsKey } from "@/lib/ingest/schemas";
import type { SeriesInput } from "@/lib/ingest/series-input";
import { storeSeries } from "@/lib/ingest/store";
import { logger } from "@/lib/logger";
import { truncateAll } from "@/tests/support/database";

// storeSeries is what every metrics receiver ends in. These tests call it
// directly with several services per request, as remote write and OTLP do.

const MAX_NEW_SERIES = 5;
vi.stubEnv("VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR", String(MAX_NEW_SERIES));
vi.stubEnv("VIGIL_INGEST_MAX_POINTS", "50");

const MINUTE = 60_000;
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;

let token: ApiToken;

async function tokenRow(serviceId?: number): Promise<ApiToken> {
  const { id } = await createApiToken({
    name: "store test",
    scope: "ingest",
    serviceId,
  });
  return getPrisma().apiToken.findUniqueOrThrow({ where: { id } });
}

function series(
  service: string | null,
  name: string,
  labels: Record<string, string>,
  points: [number, number][],
  field = "timeseries[0]",
): SeriesInput {
  return {
    service,
    name,
    labels,
    timestamps: points.map((point) => point[0]),
    values: points.map((point) => point[1]),
    field,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected the request to be rejected");
}

async function counts() {
  const { rows } = await getPool().query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM service) AS services,
            (SELECT count(*) FROM metric_series) AS series,
            (SELECT count(*) FROM data_point) AS points`,
  );
  return rows[0];
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  token = await tokenRow();
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeDb();
});

describe("storeSeries", () => {
  it("stores series of several services in one request", async () => {
    const result = await storeSeries(
      [
        series("api", "up", { instance: "a" }, [[base, 1]]),
        series("db", "up", { instance: "b" }, [
          [base, 0],
          [base + MINUTE, 1],
        ]),
      ],
      token,
      logger,
    );
    expect(result).toEqual({
      series: 2,
      newSeries: 2,
      insertedPoints: 3,
      duplicatePoints: 0,
      skippedNonFinite: 0,
      services: ["api", "db"],
    });

    const { rows } = await getPool().query(
      `SELECT s.slug, m.name, m.labels, array_agg(p.value ORDER BY p.ts) AS values
         FROM metric_series m
         JOIN service s ON s.id = m.service_id
         JOIN data_point p ON p.series_id = m.id
        GROUP BY s.slug, m.name, m.labels
        ORDER BY s.slug`,
    );
    expect(rows).toEqual([
      {
        slug: "api",
        name: "up",
        labels: { instance: "a" },
        values: [1],
      },
      {
        slug: "db",
        name: "up",
        labels: { instance: "b" },
        values: [0, 1],
      },
    ]);
    // One job for the whole request, which the worker splits per series.
    const jobs = await getPool().query(
      "SELECT payload FROM graphile_worker._private_jobs",
    );
    expect(jobs.rows).toHaveLength(1);
    expect(jobs.rows[0].payload.seriesIds).toHaveLength(2);
  });

  it("stores a retried request once and merges repeated series", async () => {
    const request = [
      series("api", "up", { b: "2", a: "1" }, [[base, 1]]),
      series("api", "up", { a: "1", b: "2" }, [[base + MINUTE, 2]]),
    ];
    const first = await storeSeries(request, token, logger);
    expect(first.series).toBe(1);
    expect(first.insertedPoints).toBe(2);

    const again = await storeSeries(request, token, logger);
    expect(again).toMatchObject({
      insertedPoints: 0,
      duplicatePoints: 2,
      newSeries: 0,
    });
    expect(await counts()).toEqual({ services: "1", series: "1", points: "2" });
  });

  it("stores the canonical labels key", async () => {
    const labels = {
      zone: "eu \"west\" \\ 1",
      app: "caf\u00e9 \ud83d\ude80",
      b_2: "line\nbreak\u0001",
    };
    await storeSeries([series("api", "up", labels, [[base, 1]])], token, logger);

    const { rows } = await getPool().query(
      "SELECT labels, labels_key FROM metric_series",
    );
    expect(rows[0].labels_key).toBe(canonicalLabelsKey(labels));
    expect(rows[0].labels).toEqual(labels);
  });

  it("skips NaN and infinite values and counts them", async () => {
    const result = await storeSeries(
      [
        series("api", "latency", {}, [
          [base, Number.NaN],
          [base + MINUTE, Number.POSITIVE_INFINITY],
          [base + 2 * MINUTE, Number.NEGATIVE_INFINITY],
          [base + 3 * MINUTE, 0.5],
        ]),
      ],
      token,
      logger,
    );
    expect(result.insertedPoints).toBe(1);
    expect(result.skippedNonFinite).toBe(3);
    expect(await counts()).toMatchObject({ points: "1" });
  });

  it("uses the bound service of the token for series without one", async () => {
    const service = await getPrisma().service.create({
      data: { slug: "payments", name: "Payments" },
    });
    const bound = await tokenRow(service.id);
    const result = await storeSeries(
      [series(null, "up", {}, [[base, 1]])],
      bound,
      logger,
    );
    expect(result.services).toEqual(["payments"]);

    // The same series named by slug and by the bound token is one series.
    const both = await storeSeries(
      [
        series(null, "cpu", {}, [[base, 1]]),
        series("payments", "cpu", {}, [[base + MINUTE, 2]]),
      ],
      bound,
      logger,
    );
    expect(both).toMatchObject({ newSeries: 2, insertedPoints: 2 });
    expect(await counts()).toMatchObject({ series: "2", points: "3" });

    const error = await rejection(
      storeSeries([series("other", "up", {}, [[base, 1]])], bound, logger),
    );
    expect(error.status).toBe(403);
    expect(error.field).toBe("timeseries[0].service");
  });

  it("rejects a series without a service when the token is not bound", async () => {
    const error = await rejection(
      storeSeries(
        [series(null, "up", {}, [[base, 1]], "timeseries[7]")],
        token,
        logger,
      ),
    );
    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[7]");
    expect(error.message).toContain("names no service");
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });

  it("rejects the whole request for one invalid series and stores nothing", async () => {
    const error = await rejection(
      storeSeries(
        [
          series("api", "up", {}, [[base, 1]], "timeseries[0]"),
          series("api", "up", { "bad-name": "x" }, [[base, 1]], "timeseries[1]"),
        ],
        token,
        logger,
      ),
    );
    expect(error.status).toBe(400);
    expect(error.field).toBe("timeseries[1].labels");
    expect(error.message).toContain('"bad-name"');
    expect(await counts()).toEqual({ services: "0", series: "0", points: "0" });
  });

  it("names a timestamp outside the accepted window", async () => {
    const old = Date.UTC(2000, 0, 1);
    const error = await rejection(
      storeSeries(
        [
          {
            ...series("api", "up", {}, [
              [base, 1],
              [old, 2],
            ]),
            pointField: (index) => `line ${index + 10}`,
          },
        ],
        token,
        logger,
      ),
    );
    expect(error.status).toBe(400);
    expect(error.field).toBe("line 11");
    expect(error.message).toBe(
      "line 11 must not be older than 365 days " +
        `(VIGIL_INGEST_MAX_AGE_DAYS), got ${old} (2000-01-01T00:00:00.000Z)`,
    );

    const future = Date.now() + 60 * MINUTE;
    const late = await rejection(
      storeSeries([series("api", "up", {}, [[future, 1]])], token, logger),
    );
    expect(late.message).toContain("must not be later than 10 minutes");
    expect(await counts()).toMatchObject({ points: "0" });
  });

  it("answers 413 past the points limit", async () => {
    const points: [number, number][] = [];
    for (let i = 0; i < 51; i += 1) points.push([base + i * 1000, i]);
    const error = await rejection(
      storeSeries([series("api", "up", {}, points)], token, logger),
    );
    expect(error.status).toBe(413);
    expect(error.message).toContain("VIGIL_INGEST_MAX_POINTS");
  });

  it("answers 429 naming the limit when a service creates too many series", async () => {
    const make = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) =>
        series("api", "requests", { user: `u${from + i}` }, [[base, 1]]),
      );
    await storeSeries(make(0, 4), token, logger);

    const error = await rejection(storeSeries(make(4, 2), token, logger));
    expect(error.status).toBe(429);
    expect(error.code).toBe("too_many_new_series");
    expect(error.headers["retry-after"]).toBe("3600");
    expect(error.message).toContain(
      `service "api" may create at most ${MAX_NEW_SERIES} new series per hour ` +
        "(VIGIL_INGEST_MAX_NEW_SERIES_PER_HOUR); it created 4 in the last " +
        "hour and this request adds 2",
    );
    expect(await counts()).toMatchObject({ series: "4", points: "4" });

    // Points of known series still pass, and so does one more new series.
    const more = await storeSeries(
      [...make(0, 4).map((entry) => ({
        ...entry,
        timestamps: [base + MINUTE],
      })), ...make(4, 1)],
      token,
      logger,
    );
    expect(more).toMatchObject({ newSeries: 1, insertedPoints: 5 });

    // Another service has its own budget.
    const other = await storeSeries(
      [series("db", "requests", { user: "u1" }, [[base, 1]])],
      token,
      logger,
    );
    expect(other.newSeries).toBe(1);
  });

  it("holds the series limit under concurrent requests", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        storeSeries(
          [series("api", "requests", { user: `c${i}` }, [[base, 1]])],
          token,
          logger,
        ),
      ),
    );
    const stored = results.filter((result) => result.status === "fulfilled");
    expect(stored).toHaveLength(MAX_NEW_SERIES);
    expect(await counts()).toMatchObject({ series: String(MAX_NEW_SERIES) });
  });

  it("creates no series for NaN-only samples", async () => {
    const result = await storeSeries(
      [series("api", "stale", {}, [[base, Number.NaN]])],
      token,
      logger,
    );
    expect(result).toMatchObject({ series: 0, skippedNonFinite: 1 });
    expect(await counts()).toMatchObject({ series: "0", points: "0" });
  });

  it("rejects a time outside Date's range with a 400", async () => {
    const error = await rejection(
      storeSeries(
        [series("api", "up", {}, [[Number.MAX_SAFE_INTEGER, 1]])],
        token,
        logger,
      ),
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain(`got ${Number.MAX_SAFE_INTEGER}`);
  });

  it("looks a series up again after it was deleted", async () => {
    await storeSeries([series("api", "up", {}, [[base, 1]])], token, logger);
    await getPool().query("DELETE FROM metric_series");

    const result = await storeSeries(
      [series("api", "up", {}, [[base + MINUTE, 1]])],
      token,
      logger,
    );
    expect(result).toMatchObject({ newSeries: 1, insertedPoints: 1 });
    expect(await counts()).toMatchObject({ series: "1", points: "1" });
  });

  it("creates a deleted service again", async () => {
    await storeSeries([series("api", "up", {}, [[base, 1]])], token, logger);
    await getPool().query("DELETE FROM service");

    const result = await storeSeries(
      [series("api", "up", {}, [[base + MINUTE, 1]])],
      token,
      logger,
    );
    expect(result).toMatchObject({ newSeries: 1, insertedPoints: 1 });
    expect(await counts()).toEqual({ services: "1", series: "1", points: "1" });
  });

  it("stores overlapping concurrent requests without deadlock or duplicates", async () => {
    const names = ["a", "b", "c", "d"];
    const request = (reverse: boolean) => {
      const list = names.map((name) =>
        series("api", name, {}, [
          [base, 1],
          [base + MINUTE, 2],
        ]),
      );
      return reverse ? list.reverse() : list;
    };
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        storeSeries(request(i % 2 === 1), token, logger),
      ),
    );
    const inserted = results.reduce(
      (sum, result) => sum + result.insertedPoints,
      0,
    );
    expect(inserted).toBe(8);
    expect(await counts()).toEqual({ services: "1", series: "4", points: "8" });
  });
});
