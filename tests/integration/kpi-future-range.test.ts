import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { resetClock, setClock } from "@/lib/clock";
import { closeDb, getPool } from "@/lib/db";
import { getKpis, getKpiTrend, KPI_NULL_REASONS } from "@/lib/kpi";
import { truncateAll } from "@/tests/support/database";

// A range that ends after now, such as "today", is measured only up to now.
// The clock is set to 2026-11-02T12:00Z, in the middle of a two-day range
// [2026-11-01T00:00Z, 2026-11-03T00:00Z).

const FROM = new Date("2026-11-01T00:00:00Z");
const TO = new Date("2026-11-03T00:00:00Z");
const NOW = new Date("2026-11-02T12:00:00Z");

let serviceId: number;

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  setClock(() => NOW);
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ('today', 'today') RETURNING id",
  );
  serviceId = rows[0]!.id;
  // Opened 6 h before now and still open.
  await getPool().query(
    `INSERT INTO incident (service_id, title, status, source,
       service_impacting, dedup_key, opened_at)
     VALUES ($1, 'open incident', 'triggered', 'manual', true, 'future-1',
       '2026-11-02T06:00:00Z')`,
    [serviceId],
  );
});

afterEach(() => {
  resetClock();
});

afterAll(async () => {
  await closeDb();
});

describe("KPI range ending after now", () => {
  it("counts downtime only up to now", async () => {
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceId] });

    // 6 h down out of the 36 h from the start of the range to now.
    expect(kpis.uptime.value).toBeCloseTo(1 - 6 / 36, 10);
  });

  it("divides rates by the time passed", async () => {
    const kpis = await getKpis({ from: FROM, to: TO, serviceIds: [serviceId] });

    // One incident in 1.5 days is 7 / 1.5 per week.
    expect(kpis.incidentFrequency.value).toBeCloseTo(7 / 1.5, 10);
  });

  it("leaves future buckets empty", async () => {
    const trend = await getKpiTrend({ from: FROM, to: TO, serviceIds: [serviceId] }, 4);

    expect(trend).toHaveLength(4);
    expect(trend[3]!.start.toISOString()).toBe("2026-11-02T12:00:00.000Z");
    expect(trend[3]!.end.toISOString()).toBe("2026-11-03T00:00:00.000Z");
    expect(trend[3]!.kpis.uptime.value).toBeNull();
    expect(trend[3]!.kpis.uptime.reason).toBe(KPI_NULL_REASONS.notStarted);
    // The third bucket, [2026-11-02T00:00Z, 12:00Z), ends at now: 6 h of
    // its 12 h are down.
    expect(trend[2]!.kpis.uptime.value).toBeCloseTo(0.5, 10);
  });

  it("returns only nulls for a range after now", async () => {
    const kpis = await getKpis({
      from: new Date("2026-11-05T00:00:00Z"),
      to: new Date("2026-11-06T00:00:00Z"),
      serviceIds: [serviceId],
    });

    expect(kpis.uptime.value).toBeNull();
    expect(kpis.errorRate.reason).toBe(KPI_NULL_REASONS.notStarted);
  });
});
