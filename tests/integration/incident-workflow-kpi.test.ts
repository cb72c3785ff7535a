import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import {
  acknowledgeIncident,
  reopenIncident,
  resolveIncident,
} from "@/lib/incidents/actions";
import { computeIncidentTimings } from "@/lib/incidents/timings";
import { getKpis, getKpiTrend, KPI_NULL_REASONS } from "@/lib/kpi";
import { truncateAll } from "@/tests/support/database";

// MTTA and MTTR read from the timeline, with reopened incidents. Incidents
// and their events are written with fixed times, as lib/incidents/actions.ts
// writes them. The expected values are worked out next to each incident.

const FROM = new Date("2026-11-02T00:00:00Z");
const TO = new Date("2026-11-03T00:00:00Z");
const MINUTE = 60;

let serviceId: number;
let otherServiceId: number;
let dedup = 0;

const at = (time: string) => new Date(`2026-11-02T${time}:00Z`);

async function addIncident(
  service: number,
  openedAt: Date,
  status: "triggered" | "acknowledged" | "resolved",
  resolvedAt: Date | null,
): Promise<number> {
  dedup += 1;
  const { rows } = await getPool().query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, source, dedup_key,
       opened_at, resolved_at)
     VALUES ($1, 'kpi incident', $2, 'manual', $3, $4, $5) RETURNING id`,
    [service, status, `kpi-workflow-${dedup}`, openedAt, resolvedAt],
  );
  const id = rows[0]!.id;
  await addEvent(id, "opened", openedAt);
  return id;
}

async function addEvent(incidentId: number, kind: string, createdAt: Date) {
  await getPool().query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name,
       message, created_at)
     VALUES ($1, $2, 'user', 'Alice', $2, $3)`,
    [incidentId, kind, createdAt],
  );
}

async function loadTimings(incidentId: number) {
  const pool = getPool();
  const incident = await pool.query(
    "SELECT status, opened_at, resolved_at FROM incident WHERE id = $1",
    [incidentId],
  );
  const events = await pool.query(
    `SELECT kind, created_at, actor_name FROM incident_event
      WHERE incident_id = $1 ORDER BY created_at, id`,
    [incidentId],
  );
  const row = incident.rows[0];
  return computeIncidentTimings(
    { status: row.status, openedAt: row.opened_at, resolvedAt: row.resolved_at },
    events.rows.map((event) => ({
      kind: event.kind,
      createdAt: event.created_at,
      actorName: event.actor_name,
    })),
  );
}

async function seedDay(): Promise<number[]> {
  const ids: number[] = [];

  // I1: acknowledged after 5 min, resolved after 60 min.
  const i1 = await addIncident(serviceId, at("10:00"), "resolved", at("11:00"));
  await addEvent(i1, "acknowledged", at("10:05"));
  await addEvent(i1, "resolved", at("11:00"));
  ids.push(i1);

  // I2: acknowledged after 20 min, resolved, reopened at 13:00,
  // acknowledged after 10 min, resolved for good at 14:00. Two cycles for
  // MTTA (20 and 10 min); MTTR counts it once, 14:00 - 12:00 = 120 min.
  const i2 = await addIncident(serviceId, at("12:00"), "resolved", at("14:00"));
  await addEvent(i2, "acknowledged", at("12:20"));
  await addEvent(i2, "resolved", at("12:30"));
  await addEvent(i2, "reopened", at("13:00"));
  await addEvent(i2, "acknowledged", at("13:10"));
  await addEvent(i2, "resolved", at("14:00"));
  ids.push(i2);

  // I3: resolved by the worker after 30 min, never acknowledged: MTTR only.
  const i3 = await addIncident(serviceId, at("15:00"), "resolved", at("15:30"));
  await addEvent(i3, "resolved", at("15:30"));
  ids.push(i3);

  // I4: acknowledged after 2 min, resolved, reopened and still open: one
  // MTTA cycle, and not resolved for MTTR.
  const i4 = await addIncident(serviceId, at("16:00"), "triggered", null);
  await addEvent(i4, "acknowledged", at("16:02"));
  await addEvent(i4, "resolved", at("16:10"));
  await addEvent(i4, "reopened", at("17:00"));
  ids.push(i4);

  // I5: the acknowledgement is stamped a minute before opened_at, the data
  // time of the onset: it counts as 0 min.
  const i5 = await addIncident(serviceId, at("18:00"), "acknowledged", null);
  await addEvent(i5, "acknowledged", at("17:59"));
  ids.push(i5);

  // I6: acknowledged and resolved before the range: in neither KPI.
  const i6 = await addIncident(
    serviceId,
    new Date("2026-11-01T20:00:00Z"),
    "resolved",
    new Date("2026-11-01T21:00:00Z"),
  );
  await addEvent(i6, "acknowledged", new Date("2026-11-01T20:30:00Z"));
  ids.push(i6);

  // Another service's incident: acknowledged after 60 min.
  const other = await addIncident(otherServiceId, at("09:00"), "acknowledged", null);
  await addEvent(other, "acknowledged", at("10:00"));
  ids.push(other);
  return ids;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  dedup = 0;
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('alpha', 'Alpha'), ('bravo', 'Bravo') RETURNING id",
  );
  serviceId = rows[0]!.id;
  otherServiceId = rows[1]!.id;
});

afterAll(async () => {
  await closeDb();
});

describe("MTTA and MTTR with reopen", () => {
  it("computes both from the timeline", async () => {
    await seedDay();

    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceId] });

    // MTTA: (5 + 20 + 10 + 2 + 0) / 5 = 7.4 min.
    expect(kpis.mtta.sampleSize).toBe(5);
    expect(kpis.mtta.value).toBeCloseTo(7.4 * MINUTE, 6);
    expect(kpis.mtta.unit).toBe("seconds");
    // MTTR: (60 + 120 + 30) / 3 = 70 min.
    expect(kpis.mttr.sampleSize).toBe(3);
    expect(kpis.mttr.value).toBeCloseTo(70 * MINUTE, 6);
  });

  it("includes every selected service", async () => {
    await seedDay();

    const kpis = await getKpis({ from: FROM, to: TO });

    // The other service adds one 60 min acknowledgement: 97 / 6 min.
    expect(kpis.mtta.sampleSize).toBe(6);
    expect(kpis.mtta.value).toBeCloseTo((97 / 6) * MINUTE, 6);
  });

  it("matches the per-incident timings", async () => {
    const ids = await seedDay();
    const inRange = ids.slice(0, 5);

    const cycles = [];
    for (const id of inRange) {
      const timings = await loadTimings(id);
      cycles.push(...timings.cycles.filter((cycle) => cycle.timeToAcknowledgeMs !== null));
    }
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceId] });

    const mean =
      cycles.reduce((sum, cycle) => sum + cycle.timeToAcknowledgeMs!, 0) / cycles.length;
    expect(cycles).toHaveLength(kpis.mtta.sampleSize);
    expect(kpis.mtta.value! * 1000).toBeCloseTo(mean, 3);
    const i2 = await loadTimings(ids[1]!);
    expect(i2.reopenCount).toBe(1);
    expect(i2.timeToResolveMs).toBe(120 * MINUTE * 1000);
    const i4 = await loadTimings(ids[3]!);
    expect(i4.timeToResolveMs).toBeNull();
  });

  it("splits by the acknowledgement time", async () => {
    await seedDay();

    const trend = await getKpiTrend({ from: FROM, to: TO, serviceIds: [serviceId] }, 2);

    // Before noon: I1 (5 min). After: 20, 10, 2 and 0 min = 8 min.
    expect(trend[0]!.kpis.mtta.sampleSize).toBe(1);
    expect(trend[0]!.kpis.mtta.value).toBeCloseTo(5 * MINUTE, 6);
    expect(trend[1]!.kpis.mtta.sampleSize).toBe(4);
    expect(trend[1]!.kpis.mtta.value).toBeCloseTo(8 * MINUTE, 6);
  });

  it("returns null without acknowledgements", async () => {
    await addIncident(serviceId, at("10:00"), "resolved", at("10:30"));

    const kpis = await getKpis({ from: FROM, to: TO });

    expect(kpis.mtta.value).toBeNull();
    expect(kpis.mtta.reason).toBe(KPI_NULL_REASONS.noAcknowledgedIncident);
    expect(kpis.mttr.value).toBeCloseTo(30 * MINUTE, 6);
  });

  it("follows the actions' own events", async () => {
    const { rows } = await getPool().query<{ id: number }>(
      "INSERT INTO user_account (email, name, password_hash, role) VALUES ('a@example.test', 'Alice', '-', 'responder') RETURNING id",
    );
    const alice = { id: rows[0]!.id, name: "Alice" };
    const openedAt = new Date(Date.now() - 10 * 60_000);
    const id = await addIncident(serviceId, openedAt, "triggered", null);

    await acknowledgeIncident(id, alice);
    await resolveIncident(id, alice);
    await reopenIncident(id, alice, "Errors are back");
    await acknowledgeIncident(id, { type: "token", id: 1, name: "API token bot" });
    await resolveIncident(id, alice);

    const timings = await loadTimings(id);
    const now = new Date();
    const kpis = await getKpis({
      from: new Date(openedAt.getTime() - 60_000),
      to: new Date(now.getTime() + 60_000),
      serviceIds: [serviceId],
    });
    expect(timings.cycles).toHaveLength(2);
    expect(timings.cycles[1]!.acknowledgedBy).toBe("API token bot");
    expect(kpis.mtta.sampleSize).toBe(2);
    expect(kpis.mtta.value! * 1000).toBeCloseTo(timings.timeToAcknowledgeMs!, 3);
    expect(kpis.mttr.sampleSize).toBe(1);
    expect(kpis.mttr.value! * 1000).toBeCloseTo(timings.timeToResolveMs!, 3);
  });
});
