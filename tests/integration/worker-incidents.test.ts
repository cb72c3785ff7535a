import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  recordEpisode,
  type Episode,
  type SeriesContext,
} from "@/lib/incidents/detector";
import { truncateAll } from "@/tests/support/database";

// recordEpisode against the real database: opening, joining, duplicates and
// two transactions racing to open an incident for one series.

let db: pg.Client;
let series: SeriesContext;

function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  return client.connect().then(() => client);
}

function episodeAt(iso: string, score: number): Episode {
  const point = {
    ts: new Date(iso),
    value: 97.5,
    score,
    likelihood: 0.99,
    isAnomaly: true,
    expectedLow: 10,
    expectedHigh: 40,
  };
  return { continuesPrevious: false, onset: point, peak: point };
}

async function inTransaction<T>(work: () => Promise<T>): Promise<T> {
  await db.query("BEGIN");
  const result = await work();
  await db.query("COMMIT");
  return result;
}

async function count(sql: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(sql);
  return Number(rows[0]!.count);
}

beforeAll(async () => {
  db = await connect();
});

afterAll(async () => {
  await db.end();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const service = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ('search', 'Search') RETURNING id`,
  );
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'rds_cpu_utilization', '{}', '{}') RETURNING id`,
    [service.rows[0]!.id],
  );
  await db.query(
    `INSERT INTO runbook (slug, title, body) VALUES ('triage', 'Triage', 'Look.')`,
  );
  series = {
    seriesId: created.rows[0]!.id,
    serviceId: service.rows[0]!.id,
    serviceSlug: "search",
    serviceName: "Search",
    metricName: "rds_cpu_utilization",
    labels: {},
  };
});

describe("recordEpisode", () => {
  it("opens an incident with severity from the peak", async () => {
    await db.query("BEGIN");
    const outcome = await recordEpisode(
      db,
      series,
      episodeAt("2026-03-01T10:00:00Z", 2.7),
    );
    await db.query("COMMIT");

    expect(outcome.outcome).toBe("opened");
    const { rows } = await db.query(
      "SELECT severity, opened_at, peak_score, dedup_key FROM incident",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].severity).toBe("sev2");
    expect(rows[0].opened_at.toISOString()).toBe("2026-03-01T10:00:00.000Z");
    expect(rows[0].peak_score).toBe(2.7);
    expect(rows[0].dedup_key).toBe(
      `detector:${series.seriesId}:${Date.parse("2026-03-01T10:00:00Z")}`,
    );
    expect(await count("SELECT count(*) FROM incident_runbook")).toBe(1);
  });

  it("states a band clipped at 0 as at most", async () => {
    const episode = episodeAt("2026-03-01T10:00:00Z", 2.7);
    const clipped = { ...episode.onset, value: 8_285_123, expectedLow: 0, expectedHigh: 0 };

    await inTransaction(() =>
      recordEpisode(db, series, { ...episode, onset: clipped, peak: clipped }),
    );

    const { rows } = await db.query("SELECT summary FROM incident");
    expect(rows[0].summary).toContain("observed 8285000 where at most 0 was expected");
    const opened = await db.query("SELECT message FROM incident_event WHERE kind = 'opened'");
    expect(opened.rows[0].message).toContain("where at most 0 was expected");
  });

  it("states a whole band as low to high", async () => {
    await inTransaction(() =>
      recordEpisode(db, series, episodeAt("2026-03-01T10:00:00Z", 2.7)),
    );

    const { rows } = await db.query("SELECT summary FROM incident");
    expect(rows[0].summary).toContain("observed 97.5 where 10 to 40 was expected");
  });

  it("joins a later episode to the open incident", async () => {
    await db.query("BEGIN");
    await recordEpisode(db, series, episodeAt("2026-03-01T10:00:00Z", 1.2));
    const second = await recordEpisode(
      db,
      series,
      episodeAt("2026-03-01T14:00:00Z", 4.5),
    );
    await db.query("COMMIT");

    expect(second.outcome).toBe("joined");
    expect(await count("SELECT count(*) FROM incident")).toBe(1);
    const { rows } = await db.query(
      "SELECT severity, peak_score FROM incident",
    );
    expect(rows[0].peak_score).toBe(4.5);
    expect(rows[0].severity).toBe("sev1");
    expect(
      await count("SELECT count(*) FROM incident_event WHERE kind = 'anomaly'"),
    ).toBe(1);
  });

  it("opens a new incident after the last was resolved", async () => {
    const episode = episodeAt("2026-03-01T10:00:00Z", 1.2);
    await inTransaction(() => recordEpisode(db, series, episode));
    await db.query("UPDATE incident SET status = 'resolved'");

    const again = await inTransaction(() =>
      recordEpisode(db, series, episode),
    );
    const later = await inTransaction(() =>
      recordEpisode(db, series, episodeAt("2026-03-02T10:00:00Z", 1.3)),
    );

    expect(again.outcome).toBe("duplicate");
    expect(later.outcome).toBe("opened");
    expect(await count("SELECT count(*) FROM incident")).toBe(2);
  });

  it("ignores a carried-over episode without open incident", async () => {
    const episode = {
      ...episodeAt("2026-03-01T10:00:00Z", 3),
      continuesPrevious: true,
    };

    const outcome = await inTransaction(() =>
      recordEpisode(db, series, episode),
    );

    expect(outcome.outcome).toBe("ignored");
    expect(await count("SELECT count(*) FROM incident")).toBe(0);
  });

  it("joins when a concurrent transaction opened first", async () => {
    const other = await connect();
    try {
      await db.query("BEGIN");
      await other.query("BEGIN");
      const first = await recordEpisode(
        db,
        series,
        episodeAt("2026-03-01T10:00:00Z", 1.5),
      );

      // The second insert waits on the partial unique index until the first
      // transaction commits, then fails with a unique violation.
      const pending = recordEpisode(
        other,
        series,
        episodeAt("2026-03-01T10:05:00Z", 2),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await db.query("COMMIT");
      const second = await pending;
      await other.query("COMMIT");

      expect(first.outcome).toBe("opened");
      expect(second.outcome).toBe("joined");
      expect(second).toMatchObject({
        incidentId: (first as { incidentId: number }).incidentId,
      });
    } finally {
      await other.end();
    }

    expect(await count("SELECT count(*) FROM incident")).toBe(1);
    expect(
      await count("SELECT count(*) FROM incident_event WHERE kind = 'anomaly'"),
    ).toBe(1);
    const { rows } = await db.query("SELECT peak_score FROM incident");
    expect(rows[0].peak_score).toBe(2);
  });
});
