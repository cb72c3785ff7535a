import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { resetClock, setClock } from "@/lib/clock";
import { closeDb } from "@/lib/db";
import { SLO_DEFAULTS } from "@/lib/slo/definitions";
import { evaluateAllSlos, evaluateSlo, sloDedupKey } from "@/lib/slo/evaluate";
import { listSloOverviews } from "@/lib/slo/overview";
import { createSlo, type SloRecord } from "@/lib/slo/store";
import { truncateAll } from "@/tests/support/database";

// Fast burns of availability SLOs from requests: one incident per burn,
// whatever the number of evaluators, resolved when the short window stops
// burning, and a new incident for a later burn. Burns of two SLOs of one
// service share an incident, which resolves when the last one ends.
// Points arrive once a minute.

const MINUTE_MS = 60_000;
const START = new Date("2026-11-20T10:00:00Z");

let db: pg.Client;
let other: pg.Client;
let serviceId: number;
let requestSeries: number;
let errorSeries: number;
let slo: SloRecord;

beforeAll(async () => {
  db = new pg.Client({ connectionString: process.env.DATABASE_URL });
  other = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  await other.connect();
});

afterAll(async () => {
  await db.end();
  await other.end();
  await closeDb();
});

afterEach(() => resetClock());

/** Adds 1000 requests a minute, errorShare of them failed, from minute `from` to `to` after START. */
async function addMinutes(from: number, to: number, errorShare: number): Promise<void> {
  const times: Date[] = [];
  for (let minute = from; minute < to; minute += 1) {
    times.push(new Date(START.getTime() + minute * MINUTE_MS));
  }
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1::int, ts, 1000 FROM unnest($3::timestamptz[]) AS ts
     UNION ALL
     SELECT $2::int, ts, $4::float8 FROM unnest($3::timestamptz[]) AS ts`,
    [requestSeries, errorSeries, times, 1000 * errorShare],
  );
}

function minute(n: number): Date {
  return new Date(START.getTime() + n * MINUTE_MS);
}

async function sloIncidents() {
  const { rows } = await db.query<{
    id: number;
    status: string;
    source: string;
    service_impacting: boolean;
    dedup_key: string;
    opened_at: Date;
    resolved_at: Date | null;
  }>(
    `SELECT id, status, source, service_impacting, dedup_key, opened_at, resolved_at
     FROM incident ORDER BY id`,
  );
  return rows;
}

async function eventKinds(incidentId: number): Promise<string[]> {
  const { rows } = await db.query<{ kind: string }>(
    "SELECT kind FROM incident_event WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  return rows.map((row) => row.kind);
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name, request_metric, error_metric)
     VALUES ('checkout', 'Checkout', 'requests', 'errors') RETURNING id`,
  );
  serviceId = rows[0]!.id;
  const series = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, 'requests', '{}', '{}'), ($1, 'errors', '{}', '{}') RETURNING id`,
    [serviceId],
  );
  requestSeries = series.rows[0]!.id;
  errorSeries = series.rows[1]!.id;
  slo = await createSlo(db, {
    service: "checkout",
    name: "requests succeed",
    kind: "availability",
    availabilitySource: "requests",
    latencyMetric: null,
    latencyThreshold: null,
    target: 0.99,
    windowDays: 30,
    ...SLO_DEFAULTS,
  });
  // Five healthy hours: 0.1 % errors.
  await addMinutes(-300, 0, 0.001);
});

describe("SLO fast burn", () => {
  it("opens one incident under two evaluators", async () => {
    // An hour at 30 % errors: 30x the budget over 1 h and 5 min.
    await addMinutes(0, 60, 0.3);
    setClock(() => minute(60));
    const results = await Promise.all([
      evaluateSlo(db, slo.id, minute(60)),
      evaluateSlo(other, slo.id, minute(60)),
    ]);
    const outcomes = results.map((result) => result.outcome).sort();
    expect(outcomes).toEqual(["opened", "unchanged"]);

    const incidents = await sloIncidents();
    expect(incidents).toHaveLength(1);
    const incident = incidents[0]!;
    expect(incident.source).toBe("slo");
    expect(incident.status).toBe("triggered");
    expect(incident.service_impacting).toBe(false);
    expect(incident.dedup_key).toBe(sloDedupKey(slo.id, 1));
    expect(incident.opened_at.toISOString()).toBe(minute(60).toISOString());
    expect(await eventKinds(incident.id)).toContain("opened");

    const again = await evaluateSlo(db, slo.id, minute(61));
    expect(again.outcome).toBe("unchanged");
    const { rows: burns } = await db.query("SELECT seq, incident_id, ended_at FROM slo_burn");
    expect(burns).toEqual([{ seq: 1, incident_id: incident.id, ended_at: null }]);
  });

  it("resolves when the short window recovers", async () => {
    await addMinutes(0, 60, 0.3);
    setClock(() => minute(60));
    const opened = await evaluateSlo(db, slo.id, minute(60));
    expect(opened.outcome).toBe("opened");

    // Ten good minutes: the 5-minute window is clean, while the hour
    // still burns at about 25x.
    await addMinutes(60, 70, 0);
    setClock(() => minute(70));
    const resolved = await evaluateSlo(db, slo.id, minute(70));
    expect(resolved.outcome).toBe("resolved");
    if (resolved.outcome !== "resolved") return;
    expect(resolved.status.fast.long.burnRate).toBeGreaterThan(14.4);
    expect(resolved.status.fast.short.burnRate).toBe(0);

    const [incident] = await sloIncidents();
    expect(incident!.status).toBe("resolved");
    expect(incident!.resolved_at!.toISOString()).toBe(minute(70).toISOString());
    expect(await eventKinds(incident!.id)).toContain("resolved");
    const { rows } = await db.query<{ burning_since: Date | null }>(
      "SELECT burning_since FROM slo WHERE id = $1",
      [slo.id],
    );
    expect(rows[0]!.burning_since).toBeNull();
  });

  it("keeps the burn open without data", async () => {
    await addMinutes(0, 60, 0.5);
    const opened = await evaluateSlo(db, slo.id, minute(60));
    if (opened.outcome !== "opened") throw new Error(`expected opened, got ${opened.outcome}`);

    // Telemetry stops: the 5-minute window is empty from minute 65 on.
    const silent = await evaluateSlo(db, slo.id, minute(70));
    expect(silent.outcome).toBe("unchanged");
    if (silent.outcome !== "unchanged") return;
    expect(silent.status.fast.short.burnRate).toBeNull();
    const [incident] = await sloIncidents();
    expect(incident!.status).toBe("triggered");
    expect(await eventKinds(incident!.id)).not.toContain("resolved");
    const [overview] = await listSloOverviews(db, minute(70));
    expect(overview!.slo.burningSince!.toISOString()).toBe(minute(60).toISOString());
    expect(overview!.status.state).toBe("fast_burn_no_data");

    // Data returns without errors: now the burn ends.
    await addMinutes(70, 80, 0);
    const recovered = await evaluateSlo(db, slo.id, minute(80));
    expect(recovered.outcome).toBe("resolved");
    const [after] = await sloIncidents();
    expect(after!.status).toBe("resolved");
    const { rows } = await db.query<{ message: string }>(
      "SELECT message FROM incident_event WHERE incident_id = $1 AND kind = 'resolved'",
      [after!.id],
    );
    expect(rows[0]!.message).toContain("is 0.00x");
    expect(rows[0]!.message).not.toContain("no data");
  });

  it("opens a new incident for a later burn", async () => {
    await addMinutes(0, 60, 0.3);
    await evaluateSlo(db, slo.id, minute(60));
    await addMinutes(60, 70, 0);
    await evaluateSlo(db, slo.id, minute(70));
    // Errors again: the hour still burns, and now the 5 minutes too.
    await addMinutes(70, 80, 0.5);
    const second = await evaluateSlo(db, slo.id, minute(80));
    expect(second.outcome).toBe("opened");

    const incidents = await sloIncidents();
    expect(incidents).toHaveLength(2);
    expect(incidents[0]!.status).toBe("resolved");
    expect(incidents[1]!.status).toBe("triggered");
    expect(incidents[1]!.dedup_key).toBe(sloDedupKey(slo.id, 2));

    const [overview] = await listSloOverviews(db, minute(80));
    expect(overview!.burns.map((burn) => [burn.seq, burn.incidentId, burn.incidentStatus])).toEqual([
      [2, incidents[1]!.id, "triggered"],
      [1, incidents[0]!.id, "resolved"],
    ]);
    expect(overview!.burns[1]!.endedAt!.toISOString()).toBe(minute(70).toISOString());
    expect(overview!.status.state).toBe("fast_burn");
  });

  it("keeps a manually resolved burn closed", async () => {
    await addMinutes(0, 60, 0.3);
    const opened = await evaluateSlo(db, slo.id, minute(60));
    if (opened.outcome !== "opened") throw new Error(`expected opened, got ${opened.outcome}`);
    await db.query("UPDATE incident SET status = 'resolved', resolved_at = $2 WHERE id = $1", [
      opened.incidentId,
      minute(61),
    ]);
    await addMinutes(60, 62, 0.3);
    const later = await evaluateSlo(db, slo.id, minute(62));
    expect(later.outcome).toBe("unchanged");
    expect(await sloIncidents()).toHaveLength(1);
  });

  it("suppresses notifications in maintenance", async () => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO notification_channel (name, type, config)
       VALUES ('hook', 'webhook', '{"url":"http://127.0.0.1:9/hook"}') RETURNING id`,
    );
    await db.query(
      "INSERT INTO notification_rule (channel_id, service_id, min_severity) VALUES ($1, NULL, 'sev4')",
      [rows[0]!.id],
    );
    await db.query(
      `INSERT INTO maintenance_window (service_id, reason, starts_at, ends_at, created_by_name)
       VALUES ($1, 'database upgrade', $2, $3, 'test')`,
      [serviceId, minute(-10), minute(120)],
    );
    await addMinutes(0, 60, 0.3);
    setClock(() => minute(60));
    const opened = await evaluateSlo(db, slo.id, minute(60));
    if (opened.outcome !== "opened") throw new Error(`expected opened, got ${opened.outcome}`);
    expect(await eventKinds(opened.incidentId)).toContain("notification_suppressed");
    const { rows: deliveries } = await db.query("SELECT id FROM notification_delivery");
    expect(deliveries).toHaveLength(0);
  });

  it("sends notifications outside maintenance", async () => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO notification_channel (name, type, config)
       VALUES ('hook', 'webhook', '{"url":"http://127.0.0.1:9/hook"}') RETURNING id`,
    );
    await db.query(
      "INSERT INTO notification_rule (channel_id, service_id, min_severity) VALUES ($1, NULL, 'sev4')",
      [rows[0]!.id],
    );
    await addMinutes(0, 60, 0.3);
    setClock(() => minute(60));
    await evaluateSlo(db, slo.id, minute(60));
    const { rows: deliveries } = await db.query<{ event: string }>(
      "SELECT event FROM notification_delivery",
    );
    expect(deliveries).toEqual([{ event: "opened" }]);
  });

  it("evaluates every SLO in one run", async () => {
    await addMinutes(0, 60, 0.3);
    const counts = await evaluateAllSlos(db, minute(60));
    expect(counts).toEqual({ evaluated: 1, opened: 1, joined: 0, resolved: 0, failed: 0 });
    const { rows } = await db.query<{ last_evaluated_at: Date }>(
      "SELECT last_evaluated_at FROM slo WHERE id = $1",
      [slo.id],
    );
    expect(rows[0]!.last_evaluated_at.toISOString()).toBe(minute(60).toISOString());
  });
});

describe("SLO burn grouping", () => {
  let second: SloRecord;

  beforeEach(async () => {
    // Same requests, a looser target and a 30-minute short window, so it
    // burns with the first SLO but recovers 25 minutes later.
    second = await createSlo(db, {
      service: "checkout",
      name: "most requests succeed",
      kind: "availability",
      availabilitySource: "requests",
      latencyMetric: null,
      latencyThreshold: null,
      target: 0.98,
      windowDays: 30,
      ...SLO_DEFAULTS,
      fastShortMinutes: 30,
    });
  });

  async function burnRows() {
    const { rows } = await db.query<{ slo_id: number; incident_id: number; ended_at: Date | null }>(
      "SELECT slo_id, incident_id, ended_at FROM slo_burn ORDER BY slo_id",
    );
    return rows;
  }

  async function events(incidentId: number) {
    const { rows } = await db.query<{ kind: string; message: string }>(
      "SELECT kind, message FROM incident_event WHERE incident_id = $1 ORDER BY id",
      [incidentId],
    );
    return rows;
  }

  it("joins burns under two evaluators", async () => {
    await addMinutes(0, 60, 0.5);
    const results = await Promise.all([
      evaluateSlo(db, slo.id, minute(60)),
      evaluateSlo(other, second.id, minute(60)),
    ]);
    expect(results.map((result) => result.outcome).sort()).toEqual(["joined", "opened"]);

    const incidents = await sloIncidents();
    expect(incidents).toHaveLength(1);
    const incidentId = incidents[0]!.id;
    const burns = await burnRows();
    expect(burns.map((burn) => burn.slo_id)).toEqual([slo.id, second.id]);
    expect(burns.map((burn) => burn.incident_id)).toEqual([incidentId, incidentId]);
    const kinds = (await events(incidentId)).map((event) => event.kind);
    expect(kinds).toContain("opened");
    expect(kinds).toContain("slo_burn_joined");
  });

  it("resolves when the last burn ends", async () => {
    await addMinutes(0, 60, 0.5);
    expect((await evaluateSlo(db, slo.id, minute(60))).outcome).toBe("opened");
    expect((await evaluateSlo(db, second.id, minute(61))).outcome).toBe("joined");
    const [incident] = await sloIncidents();
    const joined = (await events(incident!.id)).find((event) => event.kind === "slo_burn_joined");
    expect(joined!.message).toContain("SLO most requests succeed is burning fast too");

    // Ten good minutes: the first SLO's 5-minute window is clean, the
    // second's 30-minute window still has 20 minutes at 50 % errors.
    await addMinutes(60, 70, 0);
    expect((await evaluateSlo(db, slo.id, minute(70))).outcome).toBe("resolved");
    expect((await evaluateSlo(db, second.id, minute(70))).outcome).toBe("unchanged");
    const [stillOpen] = await sloIncidents();
    expect(stillOpen!.status).toBe("triggered");
    const ended = (await events(incident!.id)).find((event) => event.kind === "slo_burn_ended");
    expect(ended!.message).toContain("the fast burn of SLO requests succeed stopped");
    expect(ended!.message).toContain("stays open while SLO most requests succeed burns fast");

    await addMinutes(70, 95, 0);
    expect((await evaluateSlo(db, second.id, minute(95))).outcome).toBe("resolved");
    const [resolved] = await sloIncidents();
    expect(resolved!.status).toBe("resolved");
    expect(resolved!.resolved_at!.toISOString()).toBe(minute(95).toISOString());
    const final = (await events(incident!.id)).filter((event) => event.kind === "resolved");
    expect(final).toHaveLength(1);
    expect(final[0]!.message).toContain("the fast burn of SLO most requests succeed stopped");
    expect((await burnRows()).every((burn) => burn.ended_at !== null)).toBe(true);
  });

  it("opens separate incidents without grouping", async () => {
    await db.query("UPDATE service SET grouping_window_minutes = 0 WHERE id = $1", [serviceId]);
    await addMinutes(0, 60, 0.5);
    expect((await evaluateSlo(db, slo.id, minute(60))).outcome).toBe("opened");
    expect((await evaluateSlo(db, second.id, minute(60))).outcome).toBe("opened");
    expect(await sloIncidents()).toHaveLength(2);
  });

  it("opens separately outside the window", async () => {
    await addMinutes(0, 60, 0.5);
    expect((await evaluateSlo(db, slo.id, minute(60))).outcome).toBe("opened");
    // The second SLO starts burning 20 minutes later, past the default 10.
    await db.query("UPDATE slo SET fast_burn_rate = 100 WHERE id = $1", [second.id]);
    expect((await evaluateSlo(db, second.id, minute(60))).outcome).toBe("unchanged");
    await db.query("UPDATE slo SET fast_burn_rate = 14.4 WHERE id = $1", [second.id]);
    await addMinutes(60, 80, 0.5);
    expect((await evaluateSlo(db, second.id, minute(80))).outcome).toBe("opened");
    expect(await sloIncidents()).toHaveLength(2);
  });
});
