import type { Page } from "@playwright/test";
import type pg from "pg";

import { expect, login, test } from "./support/fixtures";
import type { E2eState } from "./support/state";

// Custom range, previous-period changes and the links behind the KPI
// numbers, on a service of its own whose deployments and incidents lie
// 40 to 20 days ago, far from the shared seed's last eight days.

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const SLUG = "kpi-compare";

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC `days` days before today. */
function daysAgo(days: number): number {
  const today = Date.parse(`${utcDay(Date.now())}T00:00:00Z`);
  return today - days * DAY_MS;
}

async function seedService(db: pg.Client) {
  await db.query("DELETE FROM service WHERE slug = $1", [SLUG]);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ($1, 'KPI compare') RETURNING id`,
    [SLUG],
  );
  const serviceId = rows[0]!.id;
  const deploy = (at: number, commitHoursBefore: number | null) =>
    db.query(
      `INSERT INTO deployment (service_id, version, status, deployed_at, commit_at)
       VALUES ($1, $2, 'success', $3, $4)`,
      [
        serviceId,
        `v${at}`,
        new Date(at),
        commitHoursBefore === null
          ? null
          : new Date(at - commitHoursBefore * HOUR_MS),
      ],
    );
  const incident = (at: number, key: string) =>
    db.query(
      `INSERT INTO incident (service_id, title, status, source,
         service_impacting, dedup_key, opened_at, resolved_at)
       VALUES ($1, $2, 'resolved', 'manual', true, $3, $4, $5)`,
      [serviceId, `Compare ${key}`, `kpi-compare-${key}`, new Date(at), new Date(at + HOUR_MS)],
    );

  // Previous period, days 40 to 31 ago: 2 deployments, both followed by an
  // incident within 60 min, lead times 4 h and 6 h.
  const previous = daysAgo(40);
  await deploy(previous + DAY_MS, 4);
  await incident(previous + DAY_MS + 10 * 60_000, "previous-1");
  await deploy(previous + 3 * DAY_MS, 6);
  await incident(previous + 3 * DAY_MS + 20 * 60_000, "previous-2");

  // Current period, days 30 to 21 ago: 4 deployments. An incident follows
  // the first within 60 min and the second 2 h later. Lead times are 1 h,
  // 2 h and 3 h (median 2 h), and one deployment has no commit time. A
  // third incident opens far from any deployment.
  const current = daysAgo(30);
  await deploy(current + DAY_MS, 1);
  await incident(current + DAY_MS + 30 * 60_000, "current-1");
  await deploy(current + 2 * DAY_MS, 2);
  await incident(current + 2 * DAY_MS + 2 * HOUR_MS, "current-late");
  await deploy(current + 4 * DAY_MS, 3);
  await deploy(current + 5 * DAY_MS, null);
  // Far from any deployment: a third incident, so incidents rose from 2.
  await incident(current + 6 * DAY_MS + 12 * HOUR_MS, "current-lone");
}

test("custom range shows changes and drills down", async ({
  page,
  state,
  db,
}) => {
  await seedService(db);
  // The service leaves with the test, so the other specs see the shared seed.
  try {
    await checkComparison(page, state);
  } finally {
    await db.query("DELETE FROM service WHERE slug = $1", [SLUG]);
  }
});

async function checkComparison(page: Page, state: E2eState) {
  await login(page, state.users.admin);
  await page.goto(`/?service=${SLUG}`);

  const picker = page.getByRole("form", { name: "Custom range" });
  await picker.getByLabel("From").fill(utcDay(daysAgo(30)));
  await picker.getByLabel("to", { exact: true }).fill(utcDay(daysAgo(21)));
  await picker.getByRole("button", { name: "Apply" }).click();

  await expect(page).toHaveURL(/range=custom/);
  await expect(
    page.getByText(`KPI compare, ${utcDay(daysAgo(30))} to ${utcDay(daysAgo(21))}`),
  ).toBeVisible();

  // 1 of 4 deployments failed, against 2 of 2 before: 25 % vs 100 %.
  const failure = page.getByTestId("kpi-changeFailureRate");
  await expect(failure.getByTestId("kpi-value")).toHaveText("25 %");
  await expect(failure.getByTestId("kpi-previous")).toContainText("100 %");
  const failureChange = failure.getByTestId("kpi-change");
  await expect(failureChange).toHaveText("\u221275 pp");
  await expect(failureChange).toHaveAttribute("data-tone", "better");

  // Median lead time 2 h against (4 h + 6 h) / 2 = 5 h before.
  const lead = page.getByTestId("kpi-leadTime");
  await expect(lead.getByTestId("kpi-value")).toHaveText("2 h");
  await expect(lead.getByTestId("kpi-change")).toHaveText("\u22123 h");
  await expect(lead.getByTestId("kpi-change")).toHaveAttribute(
    "data-tone",
    "better",
  );

  // 3 incidents now against 2 before: more incidents are worse.
  const incidents = page.getByTestId("kpi-incidentFrequency");
  await expect(incidents.getByTestId("kpi-change")).toHaveAttribute(
    "data-tone",
    "worse",
  );

  // The change failure number lists the failed deployment.
  await failure.getByTestId("kpi-value").click();
  await expect(page).toHaveURL(/\/deployments\?.*outcome=failed/);
  const failedRows = page.getByTestId("deployment-row");
  await expect(failedRows).toHaveCount(1);
  await expect(failedRows.getByTestId("deployment-incident")).toContainText(
    "Compare current-1",
  );
  await expect(failedRows.getByTestId("deployment-lead-time")).toHaveText("1 h");

  // The lead time number lists every deployment of the range.
  await page.goBack();
  await lead.getByTestId("kpi-value").click();
  await expect(page).toHaveURL(/\/deployments\?/);
  await expect(page.getByTestId("deployment-row")).toHaveCount(4);
  await expect(
    page.getByTestId("deployment-lead-time").filter({ hasText: "no commit time" }),
  ).toHaveCount(1);

  // The incident frequency number lists the incidents opened in the range.
  await page.goBack();
  await incidents.getByTestId("kpi-value").click();
  await expect(page).toHaveURL(/\/incidents\?/);
  await expect(page.getByText("Compare current-1")).toBeVisible();
  await expect(page.getByText("Compare current-late")).toBeVisible();
  await expect(page.getByText("Compare current-lone")).toBeVisible();
  await expect(page.getByText("Compare previous-1")).toHaveCount(0);
}

test("invalid custom range shows an error", async ({ page, state }) => {
  await login(page, state.users.admin);
  const response = await page.goto("/?range=custom&from=2026-02-30&to=2026-03-02");

  expect(response?.status()).toBe(200);
  await expect(page.getByTestId("range-error")).toContainText(
    '"2026-02-30" is not a valid date',
  );
  await expect(page.getByTestId("kpi-uptime")).toBeVisible();
});

test("deployments page fits a phone", async ({ page, state }) => {
  await page.setViewportSize({ width: 375, height: 812 });
  await login(page, state.users.admin);
  await page.goto("/deployments?range=7d");
  await page.waitForLoadState("networkidle");

  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
});
