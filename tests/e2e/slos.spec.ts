import pg from "pg";

import { formatRatio } from "@/lib/slo/format";

import { expect, login, test } from "./support/fixtures";
import { readState } from "./support/state";

// The SLO page: an admin creates an SLO in the form and reads its
// attainment, a fast burn found by the worker's evaluate-slos cron shows
// the incident it opened, viewers read without the form, and the page
// fits a phone. The SLOs and incidents these tests create are deleted at
// the end, so that later specs see the seeded data only.

const MINUTE_MS = 60_000;

test.afterAll(async () => {
  const db = new pg.Client({ connectionString: readState().databaseUrl });
  await db.connect();
  try {
    await db.query("DELETE FROM incident WHERE source = 'slo'");
    await db.query("DELETE FROM slo");
  } finally {
    await db.end();
  }
});

test("admin creates an SLO and sees attainment", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.getByRole("link", { name: "SLOs", exact: true }).click();
  await expect(page.getByRole("heading", { name: "SLOs", exact: true })).toBeVisible();
  await expect(page.getByText("No SLOs yet")).toBeVisible();

  const form = page.getByRole("form", { name: "New SLO" });
  await form.getByRole("button", { name: /Checkout API/ }).click();
  await page.getByRole("option", { name: "Checkout API" }).click();
  await form.getByLabel("Name").fill("checkout requests succeed");
  await form.getByLabel("Target (%)").fill("99");
  await form.getByLabel("Window (days)").fill("7");
  await form.getByRole("button", { name: "Create SLO" }).click();
  await expect(form.getByText("Created SLO checkout requests succeed.")).toBeVisible();

  const card = page.getByTestId("slo-card").filter({ hasText: "checkout requests succeed" });
  await expect(card).toBeVisible();
  // The seeded checkout traffic has 0.2 % to 0.6 % failed requests.
  const response = await page.request.get("/api/v1/slos?service=checkout");
  expect(response.status()).toBe(200);
  const { slos } = (await response.json()) as {
    slos: Array<{ name: string; status: { attainment: number | null } }>;
  };
  const slo = slos.find((item) => item.name === "checkout requests succeed");
  expect(slo?.status.attainment).toBeGreaterThan(0.99);
  expect(slo?.status.attainment).toBeLessThan(1);
  // Attainment changes as the minutes go by, so the card may be a reload older.
  await expect(card.getByTestId("slo-attainment")).toHaveText(/^\d+(\.\d+)? %$/);
  const shown = await card.getByTestId("slo-attainment").innerText();
  expect(Math.abs(Number.parseFloat(shown) - slo!.status.attainment! * 100)).toBeLessThan(0.01);
  expect(shown).toMatch(/^99\.\d+ %$/);
  expect(formatRatio(slo!.status.attainment)).toMatch(/^99\.\d+ %$/);
  await expect(card.getByTestId("slo-state")).toHaveText("On target");

  await page.goto("/services/checkout");
  await expect(page.getByTestId("service-slos").getByText("checkout requests succeed")).toBeVisible();

  // The reports page lists the SLO's attainment over the report period.
  await page.goto("/reports?range=7d&services=checkout");
  const row = page.getByTestId("report-slo-table").getByRole("row", { name: /checkout requests succeed/ });
  await expect(row).toBeVisible();
  await expect(row).toContainText("99 %");
});

test("fast burn shows its incident", async ({ page, state, db }) => {
  test.setTimeout(180_000);
  await login(page, state.users.admin);
  // Every queue_depth point of payments is above -1, so all are bad: a burn
  // rate of 1000x against a 99.9 % target, over both fast windows.
  const created = await page.request.post("/api/v1/slos", {
    data: {
      service: "payments",
      name: "queue drains",
      kind: "latency",
      latencyMetric: "queue_depth",
      latencyThreshold: -1,
      target: 0.999,
      windowDays: 1,
    },
  });
  expect(created.status()).toBe(201);
  // Fresh points, because the seeded ones may be older than the 5-minute window.
  const now = Date.now();
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT ms.id, t, 12
     FROM metric_series ms
     JOIN service s ON s.id = ms.service_id
     CROSS JOIN unnest($1::timestamptz[]) AS t
     WHERE s.slug = 'payments' AND ms.name = 'queue_depth'
     ON CONFLICT DO NOTHING`,
    [[0, 1, 2, 3].map((minutes) => new Date(now - minutes * MINUTE_MS + 1000))],
  );

  // The worker evaluates SLOs once a minute. A last_evaluated_at of null
  // in a failure means the worker never ran the evaluate-slos task.
  await expect
    .poll(
      async () => {
        const { rows } = await db.query<{ last_evaluated_at: Date | null; burn_count: number }>(
          "SELECT last_evaluated_at, burn_count FROM slo WHERE name = 'queue drains'",
        );
        const row = rows[0]!;
        return row.last_evaluated_at === null ? "never evaluated" : `${row.burn_count} burns`;
      },
      { timeout: 150_000, intervals: [5_000] },
    )
    .toBe("1 burns");

  await page.goto("/slos");
  const card = page.getByTestId("slo-card").filter({ hasText: "queue drains" });
  await expect(card.getByTestId("slo-burns").getByRole("link")).toBeVisible();
  await expect(card.getByTestId("slo-state")).toHaveText("Fast burn");
  await expect(card.getByTestId("slo-attainment")).toHaveText("0 %");

  await card.getByTestId("slo-burns").getByRole("link").first().click();
  await expect(page.getByText("SLO queue drains of Payments worker is burning its error budget fast").first()).toBeVisible();
  const { rows } = await db.query<{ count: string }>(
    "SELECT count(*) FROM incident WHERE source = 'slo'",
  );
  expect(Number(rows[0]!.count)).toBe(1);
});

test("form rejects out-of-bounds values", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  await page.goto("/slos");
  const form = page.getByRole("form", { name: "New SLO" });
  const { rows: before } = await db.query<{ count: string }>("SELECT count(*) FROM slo");

  await form.getByLabel("Name").fill("too loose");
  await form.getByLabel("Target (%)").fill("40");
  await form.getByRole("button", { name: "Create SLO" }).click();
  await expect(form.getByRole("alert")).toHaveText(/^target must be a share from 0\.5 to 0\.99999/);

  // At 90 % the burn rate is at most 10, below the default fast burn rate 14.4.
  await form.getByLabel("Target (%)").fill("90");
  await form.getByRole("button", { name: "Create SLO" }).click();
  await expect(form.getByRole("alert")).toHaveText(/^fastBurnRate must be below 10,/);

  const { rows: after } = await db.query<{ count: string }>("SELECT count(*) FROM slo");
  expect(after[0]!.count).toBe(before[0]!.count);
});

test("open burn without data says so", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  // Points from 30 to 20 minutes ago only: the hour has data, the last
  // 5 minutes none.
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     SELECT id, 'stale_depth', '{}', '{}' FROM service WHERE slug = 'payments'
     RETURNING id`,
  );
  const now = Date.now();
  await db.query(
    "INSERT INTO data_point (series_id, ts, value) SELECT $1::int, t, 12 FROM unnest($2::timestamptz[]) AS t",
    [rows[0]!.id, Array.from({ length: 10 }, (_, index) => new Date(now - (20 + index) * MINUTE_MS))],
  );
  const created = await page.request.post("/api/v1/slos", {
    data: {
      service: "payments",
      name: "stale queue drains",
      kind: "latency",
      latencyMetric: "stale_depth",
      latencyThreshold: 1,
      target: 0.999,
      windowDays: 1,
    },
  });
  expect(created.status()).toBe(201);
  const { slo } = (await created.json()) as { slo: { id: number } };
  // A burn that began while the points still arrived.
  await db.query("UPDATE slo SET burning_since = $2, burn_count = 1 WHERE id = $1", [
    slo.id,
    new Date(now - 20 * MINUTE_MS),
  ]);

  await page.goto("/slos");
  const card = page.getByTestId("slo-card").filter({ hasText: "stale queue drains" });
  await expect(card.getByTestId("slo-state")).toHaveText("Fast burn, no data");
  await expect(card.getByTestId("slo-no-data")).toContainText("No data over the last 5 min");
  const response = await page.request.get(`/api/v1/slos/${slo.id}`);
  const body = (await response.json()) as { slo: { status: { state: string }; burningSince: string | null } };
  expect(body.slo.status.state).toBe("fast_burn_no_data");
  expect(body.slo.burningSince).not.toBeNull();
  await db.query("DELETE FROM metric_series WHERE id = $1", [rows[0]!.id]);
});

test("viewer reads SLOs without the form", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto("/slos");
  await expect(page.getByRole("heading", { name: "SLOs", exact: true })).toBeVisible();
  await expect(page.getByTestId("slo-card").first()).toBeVisible();
  await expect(page.getByRole("form", { name: "New SLO" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Edit" })).toHaveCount(0);
});

test("SLO page fits a phone", async ({ page, state }) => {
  await page.setViewportSize({ width: 375, height: 800 });
  await login(page, state.users.admin);
  await page.goto("/slos");
  await expect(page.getByTestId("slo-card").first()).toBeVisible();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
});
