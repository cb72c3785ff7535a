import { mkdir } from "node:fs/promises";

import { expect, login, test } from "./support/fixtures";

// Renders every page with the seeded data and saves a full-page screenshot
// of each under test-results/screenshots for a visual check.

const SCREENSHOT_DIR = "test-results/screenshots";

test("every page renders", async ({ page, state }) => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const shoot = (name: string) =>
    page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: true });

  await page.goto("/login");
  await shoot("login");

  await login(page, state.users.admin);
  await expect(page.getByTestId("kpi-uptime")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await shoot("overview");

  await page.goto("/?range=24h&service=checkout");
  await expect(page.getByText("Checkout API, last 24 hours")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await shoot("overview-checkout-24h");

  await page.goto("/incidents");
  await expect(page.getByTestId("incident-table")).toBeVisible();
  await shoot("incidents");

  await page.goto("/incidents?status=resolved");
  await expect(page.getByTestId("incident-table")).not.toContainText(
    "Triggered",
  );
  await expect(page.getByTestId("incident-table")).toContainText(
    "Search latency spike",
  );

  await page.goto(`/incidents/${state.incidents.latency}`);
  await expect(page.getByTestId("series-chart")).toBeVisible();
  await expect(page.getByTestId("runbook-list")).toContainText(
    "High latency on an HTTP service",
  );
  await expect(page.getByTestId("incident-explanation")).toContainText(
    "Observed",
  );
  await page.waitForLoadState("networkidle");
  await shoot("incident");

  await page.goto("/services");
  await expect(page.getByRole("link", { name: /Checkout API/ })).toBeVisible();
  await shoot("services");

  await page.goto("/services/checkout");
  await expect(page.getByTestId("series-card")).toHaveCount(3);
  await expect(page.getByTestId("deployment-table")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await shoot("service");

  const missing = await page.goto("/incidents/999999");
  expect(missing?.status()).toBe(404);
  for (const path of ["/services/no-such-service", "/services/%00"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
  }
});
