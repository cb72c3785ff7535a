import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import {
  getKpis,
  getKpisWithPrevious,
  getKpiTrend,
  KPI_NULL_REASONS,
  listDeploymentsInRange,
  previousPeriod,
} from "@/lib/kpi";
import { truncateAll } from "@/tests/support/database";

// Change failure rate and lead time for changes over hand-built
// deployments and incidents in the day [2026-11-02T00:00Z, 2026-11-03T00:00Z),
// with a change failure window of 60 minutes. Expected values are worked
// out next to each assertion.

const FROM = new Date("2026-11-02T00:00:00Z");
const TO = new Date("2026-11-03T00:00:00Z");
const WINDOW = { changeFailureWindowMinutes: 60 };

let serviceA: number;
let serviceB: number;
let dedup = 0;

async function addService(slug: string) {
  const { rows } = await getPool().query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $1) RETURNING id",
    [slug],
  );
  return rows[0]!.id;
}

async function addDeployment(
  serviceId: number,
  deployedAt: string,
  commitAt: string | null = null,
  status = "success",
  environment = "production",
) {
  await getPool().query(
    `INSERT INTO deployment (service_id, version, status, deployed_at, commit_at, environment)
     VALUES ($1, 'v1', $2, $3, $4, $5)`,
    [serviceId, status, deployedAt, commitAt, environment],
  );
}

async function addIncident(serviceId: number, openedAt: string) {
  dedup += 1;
  await getPool().query(
    `INSERT INTO incident (service_id, title, status, source,
       service_impacting, dedup_key, opened_at)
     VALUES ($1, 'test incident', 'triggered', 'manual', false, $2, $3)`,
    [serviceId, `change-test-${dedup}`, openedAt],
  );
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  serviceA = await addService("alpha");
  serviceB = await addService("beta");
});

afterAll(async () => {
  await closeDb();
});

describe("change failure rate", () => {
  it("counts incidents within the window", async () => {
    // 1: incident 30 min later -> failed.
    await addDeployment(serviceA, "2026-11-02T01:00:00Z");
    await addIncident(serviceA, "2026-11-02T01:30:00Z");
    // 2: incident exactly 60 min later -> failed (the window is closed).
    await addDeployment(serviceA, "2026-11-02T05:00:00Z");
    await addIncident(serviceA, "2026-11-02T06:00:00Z");
    // 3: incident 60 min 1 s later -> not failed.
    await addDeployment(serviceA, "2026-11-02T10:00:00Z");
    await addIncident(serviceA, "2026-11-02T11:00:01Z");
    // 4: incident of another service 10 min later -> not failed.
    await addDeployment(serviceA, "2026-11-02T14:00:00Z");
    await addIncident(serviceB, "2026-11-02T14:10:00Z");
    // 5: at the last second of the range; its incident opens after the
    // range ends and still counts -> failed.
    await addDeployment(serviceA, "2026-11-02T23:59:59Z");
    await addIncident(serviceA, "2026-11-03T00:20:00Z");
    // Not counted: deployed at `to` (outside the half-open range), a failed
    // deployment, and an incident one second before a deployment.
    await addDeployment(serviceA, "2026-11-03T00:00:00Z");
    await addDeployment(serviceA, "2026-11-02T16:00:00Z", null, "failure");
    await addDeployment(serviceA, "2026-11-02T18:00:00Z");
    await addIncident(serviceA, "2026-11-02T17:59:59Z");

    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);

    // Successful deployments in range: 1, 2, 3, 4, 5 and 18:00 = 6.
    // Failed: 1, 2, 5 = 3. 3 / 6 = 0.5.
    expect(kpis.changeFailureRate.sampleSize).toBe(6);
    expect(kpis.changeFailureRate.value).toBeCloseTo(0.5, 12);
    expect(kpis.changeFailureRate.unit).toBe("ratio");
  });

  it("follows the window option", async () => {
    await addDeployment(serviceA, "2026-11-02T01:00:00Z");
    await addIncident(serviceA, "2026-11-02T01:30:00Z");

    const narrow = await getKpis(
      { from: FROM, to: TO },
      { changeFailureWindowMinutes: 29 },
    );
    const wide = await getKpis(
      { from: FROM, to: TO },
      { changeFailureWindowMinutes: 30 },
    );

    expect(narrow.changeFailureRate.value).toBe(0);
    expect(wide.changeFailureRate.value).toBe(1);
  });

  it("limits to the selected services", async () => {
    await addDeployment(serviceA, "2026-11-02T01:00:00Z");
    await addIncident(serviceA, "2026-11-02T01:30:00Z");
    await addDeployment(serviceB, "2026-11-02T02:00:00Z");

    const onlyB = await getKpis(
      { from: FROM, to: TO, serviceIds: [serviceB] },
      WINDOW,
    );

    expect(onlyB.changeFailureRate.value).toBe(0);
    expect(onlyB.changeFailureRate.sampleSize).toBe(1);
  });

  it("is null without successful deployments", async () => {
    await addDeployment(serviceA, "2026-11-02T01:00:00Z", null, "failure");

    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);

    expect(kpis.changeFailureRate.value).toBeNull();
    expect(kpis.changeFailureRate.reason).toBe(
      KPI_NULL_REASONS.noSuccessfulDeployment,
    );
  });
});

describe("lead time for changes", () => {
  it("takes the median of commit to deploy", async () => {
    // Lead times 1 h, 2 h, 4 h and 10 h: median (2 h + 4 h) / 2 = 3 h.
    await addDeployment(serviceA, "2026-11-02T10:00:00Z", "2026-11-02T09:00:00Z");
    await addDeployment(serviceA, "2026-11-02T11:00:00Z", "2026-11-02T09:00:00Z");
    await addDeployment(serviceB, "2026-11-02T12:00:00Z", "2026-11-02T08:00:00Z");
    await addDeployment(serviceB, "2026-11-02T20:00:00Z", "2026-11-02T10:00:00Z");
    // Not counted: no commit time, a failed deployment, and a deployment
    // at `to`.
    await addDeployment(serviceA, "2026-11-02T13:00:00Z");
    await addDeployment(
      serviceA,
      "2026-11-02T14:00:00Z",
      "2026-11-01T00:00:00Z",
      "failure",
    );
    await addDeployment(serviceA, "2026-11-03T00:00:00Z", "2026-11-01T00:00:00Z");

    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);

    expect(kpis.leadTime.value).toBe(3 * 3600);
    expect(kpis.leadTime.sampleSize).toBe(4);
    expect(kpis.leadTime.unit).toBe("seconds");
  });

  it("counts a deployment at the range start", async () => {
    await addDeployment(serviceA, "2026-11-02T00:00:00Z", "2026-11-01T23:00:00Z");

    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);

    expect(kpis.leadTime.value).toBe(3600);
  });

  it("is null without commit times", async () => {
    await addDeployment(serviceA, "2026-11-02T10:00:00Z");

    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);

    expect(kpis.leadTime.value).toBeNull();
    expect(kpis.leadTime.sampleSize).toBe(0);
    expect(kpis.leadTime.reason).toBe(KPI_NULL_REASONS.noCommitTime);
  });

  it("splits into trend buckets", async () => {
    await addDeployment(serviceA, "2026-11-02T01:00:00Z", "2026-11-02T00:30:00Z");
    await addDeployment(serviceA, "2026-11-02T13:00:00Z", "2026-11-02T11:00:00Z");

    const trend = await getKpiTrend({ from: FROM, to: TO }, 2, WINDOW);

    expect(trend[0]!.kpis.leadTime.value).toBe(1800);
    expect(trend[1]!.kpis.leadTime.value).toBe(7200);
  });
});

describe("deployment environments", () => {
  async function addMixedDeployments() {
    // Staging at 01:00 with an incident 5 min later and a 2 h commit.
    await addDeployment(serviceA, "2026-11-02T01:00:00Z", "2026-11-01T23:00:00Z", "success", "staging");
    await addIncident(serviceA, "2026-11-02T01:05:00Z");
    // Production at 10:00 without an incident and a 30 min commit.
    await addDeployment(serviceA, "2026-11-02T10:00:00Z", "2026-11-02T09:30:00Z");
  }

  it("counts production by default", async () => {
    await addMixedDeployments();
    const kpis = await getKpis({ from: FROM, to: TO }, WINDOW);
    expect(kpis.deploymentFrequency.sampleSize).toBe(1);
    expect(kpis.deploymentFrequency.value).toBeCloseTo(1, 12);
    expect(kpis.changeFailureRate.sampleSize).toBe(1);
    expect(kpis.changeFailureRate.value).toBe(0);
    expect(kpis.leadTime.sampleSize).toBe(1);
    expect(kpis.leadTime.value).toBe(30 * 60);

    const list = await listDeploymentsInRange({ from: FROM, to: TO }, WINDOW);
    expect(list.environments).toEqual(["production"]);
    expect(list.total).toBe(1);
    expect(list.deployments.map((item) => item.environment)).toEqual(["production"]);
    const failed = await listDeploymentsInRange({ from: FROM, to: TO }, { ...WINDOW, failedOnly: true });
    expect(failed.total).toBe(0);
  });

  it("counts every environment with null", async () => {
    await addMixedDeployments();
    const options = { ...WINDOW, deploymentEnvironments: null };
    const kpis = await getKpis({ from: FROM, to: TO }, options);
    expect(kpis.deploymentFrequency.sampleSize).toBe(2);
    expect(kpis.changeFailureRate.sampleSize).toBe(2);
    expect(kpis.changeFailureRate.value).toBeCloseTo(0.5, 12);
    // Median of 2 h and 30 min.
    expect(kpis.leadTime.value).toBe(75 * 60);

    const list = await listDeploymentsInRange({ from: FROM, to: TO }, options);
    expect(list.environments).toBeNull();
    expect(list.total).toBe(2);
  });

  it("counts only the listed environments", async () => {
    await addMixedDeployments();
    const options = { ...WINDOW, deploymentEnvironments: ["staging"] };
    const kpis = await getKpis({ from: FROM, to: TO }, options);
    expect(kpis.deploymentFrequency.sampleSize).toBe(1);
    expect(kpis.changeFailureRate.value).toBe(1);
    expect(kpis.leadTime.value).toBe(2 * 3600);

    const trend = await getKpiTrend({ from: FROM, to: TO }, 2, options);
    expect(trend.map((bucket) => bucket.kpis.deploymentFrequency.sampleSize)).toEqual([1, 0]);
    expect(trend.map((bucket) => bucket.kpis.changeFailureRate.sampleSize)).toEqual([1, 0]);
  });
});

describe("previous period", () => {
  it("ends where the range starts", () => {
    const previous = previousPeriod({
      from: FROM,
      to: TO,
      serviceIds: [serviceA],
    });

    expect(previous.from.toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(previous.to.toISOString()).toBe("2026-11-02T00:00:00.000Z");
    expect(previous.serviceIds).toEqual([serviceA]);
  });

  it("computes both periods", async () => {
    // Previous day: 2 successful deployments, 1 followed by an incident.
    await addDeployment(serviceA, "2026-11-01T03:00:00Z", "2026-11-01T02:00:00Z");
    await addIncident(serviceA, "2026-11-01T03:10:00Z");
    await addDeployment(serviceA, "2026-11-01T23:59:59.999Z");
    // This day: 1 successful deployment, no incident.
    await addDeployment(serviceA, "2026-11-02T03:00:00Z", "2026-11-02T02:30:00Z");

    const { current, previous } = await getKpisWithPrevious(
      { from: FROM, to: TO },
      WINDOW,
    );

    expect(previous.changeFailureRate.value).toBe(0.5);
    expect(previous.deploymentFrequency.sampleSize).toBe(2);
    expect(previous.leadTime.value).toBe(3600);
    expect(current.changeFailureRate.value).toBe(0);
    expect(current.deploymentFrequency.sampleSize).toBe(1);
    expect(current.leadTime.value).toBe(1800);
  });
});
