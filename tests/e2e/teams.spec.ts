import type { Page } from "@playwright/test";

import { expect, login, test } from "./support/fixtures";

// Teams in the browser: an admin creates a team on /settings/teams and
// assigns a service, the overview filtered by that team shows the numbers
// of its service, and viewers cannot open the settings page.

/** Returns the value of every KPI card, keyed by the card's test id. */
async function readCards(page: Page): Promise<Record<string, string>> {
  await expect(page.getByTestId("kpi-value").first()).toBeVisible();
  const cards: Record<string, string> = {};
  for (const card of await page.locator('[data-testid^="kpi-"]:has([data-testid="kpi-value"])').all()) {
    const name = (await card.getAttribute("data-testid"))!;
    cards[name] = (await card.getByTestId("kpi-value").innerText()).trim();
  }
  expect(Object.keys(cards).length).toBeGreaterThanOrEqual(6);
  return cards;
}

test("admin creates a team and filters by it", async ({ page, state, db }) => {
  await db.query("DELETE FROM team WHERE slug IN ('e2e-checkout', 'e2e-idle')");
  await login(page, state.users.admin);
  await page.goto("/settings/teams");
  await expect(page.getByRole("heading", { name: "Teams", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Create team" });
  await form.getByLabel("Slug").fill("e2e-checkout");
  await form.getByLabel("Name").fill("Checkout crew");
  await form.getByRole("button", { name: /No services/ }).click();
  await page.getByRole("option", { name: "Checkout API" }).click();
  await page.keyboard.press("Escape");
  await form.getByRole("button", { name: "Create team" }).click();
  await expect(form.getByText("Created team Checkout crew.")).toBeVisible();
  await expect(page.getByRole("form", { name: "Team e2e-checkout" })).toBeVisible();

  const { rows } = await db.query<{ team: string | null }>(
    "SELECT t.slug AS team FROM service s LEFT JOIN team t ON t.id = s.team_id WHERE s.slug = 'checkout'",
  );
  expect(rows[0]?.team).toBe("e2e-checkout");

  // A taken slug is rejected with the API's message.
  await form.getByLabel("Slug").fill("e2e-checkout");
  await form.getByLabel("Name").fill("Duplicate");
  await form.getByRole("button", { name: "Create team" }).click();
  await expect(form.getByRole("alert")).toContainText('a team with slug "e2e-checkout" already exists');

  await page.goto("/?range=30d&service=checkout");
  await expect(page.getByText("Checkout API, last 30 days")).toBeVisible();
  const serviceCards = await readCards(page);

  await page.goto("/?range=30d");
  await page.getByRole("button", { name: /All services/ }).click();
  await page.getByRole("option", { name: "Team: Checkout crew" }).click();
  await expect(page).toHaveURL(/team=e2e-checkout/);
  await expect(page.getByText("Team Checkout crew, last 30 days")).toBeVisible();
  expect(await readCards(page)).toEqual(serviceCards);

  await page.goto("/services");
  await expect(page.getByTestId("service-team")).toHaveText(["Team Checkout crew"]);
  await page.goto("/services/checkout");
  await expect(page.getByTestId("service-team")).toHaveText("Team Checkout crew");

  // A team without services shows an empty state, not every service.
  const created = await page.request.post("/api/v1/teams", {
    data: { slug: "e2e-idle", name: "Idle crew" },
  });
  expect(created.status()).toBe(201);
  await page.goto("/?range=30d&team=e2e-idle");
  await expect(page.getByTestId("team-empty")).toContainText("Team Idle crew has no services yet");
  await expect(page.getByTestId("kpi-incidentFrequency").getByTestId("kpi-value")).not.toHaveText(
    serviceCards["kpi-incidentFrequency"]!,
  );

  // Deleting the team keeps its service.
  await page.goto("/settings/teams");
  page.once("dialog", (dialog) => void dialog.accept());
  await page
    .getByRole("form", { name: "Team e2e-checkout" })
    .getByRole("button", { name: "Delete team" })
    .click();
  await expect(page.getByRole("form", { name: "Team e2e-checkout" })).toHaveCount(0);
  const { rows: after } = await db.query<{ team_id: number | null }>(
    "SELECT team_id FROM service WHERE slug = 'checkout'",
  );
  expect(after).toEqual([{ team_id: null }]);
  await db.query("DELETE FROM team WHERE slug = 'e2e-idle'");
});

test("team settings fit a phone", async ({ page, state, db }) => {
  await db.query("DELETE FROM team WHERE slug = 'e2e-phone'");
  await db.query("INSERT INTO team (slug, name) VALUES ('e2e-phone', 'Phone crew')");
  await page.setViewportSize({ width: 375, height: 800 });
  await login(page, state.users.admin);
  await page.goto("/settings/teams");
  await expect(page.getByRole("form", { name: "Team e2e-phone" })).toBeVisible();
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await db.query("DELETE FROM team WHERE slug = 'e2e-phone'");
});

test("viewer cannot reach team settings", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto("/settings/teams");
  await expect(page.getByText("Only admins can manage teams; your role is viewer.")).toBeVisible();
  await expect(page.getByRole("form", { name: "Create team" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Teams", exact: true })).toHaveCount(0);
  const response = await page.request.post("/api/v1/teams", { data: { slug: "viewer-team", name: "V" } });
  expect(response.status()).toBe(403);
  const listed = await page.request.get("/api/v1/teams");
  expect(listed.status()).toBe(200);
});

test("report form picks a team", async ({ page, state, db }) => {
  await db.query("DELETE FROM team WHERE slug = 'e2e-report'");
  await db.query("INSERT INTO team (slug, name) VALUES ('e2e-report', 'Report crew')");
  await db.query("UPDATE service SET team_id = (SELECT id FROM team WHERE slug = 'e2e-report') WHERE slug = 'checkout'");
  await login(page, state.users.responder);
  await page.goto("/reports?range=30d");
  await page.getByRole("button", { name: /No team/ }).click();
  await page.getByRole("option", { name: "Report crew" }).click();
  await expect(page).toHaveURL(/teams=e2e-report/);
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("report-teams")).toContainText("Teams: Report crew (Checkout API)");
  await expect(page.getByTestId("download-reliability-csv")).toHaveAttribute(
    "href",
    "/api/v1/reports/reliability.csv?range=30d&teams=e2e-report",
  );
  const response = await page.request.get("/api/v1/reports/incidents.csv?range=30d&teams=e2e-report");
  expect(response.status()).toBe(200);
  await db.query("DELETE FROM team WHERE slug = 'e2e-report'");
});
