import type { Request } from "@playwright/test";

import { expect, login, test } from "./support/fixtures";

// Layout, live refresh and small-detail checks of the dashboard pages.

const PHONE = { width: 390, height: 844 };

test("pages fit a phone-width screen", async ({ page, state }) => {
  await page.setViewportSize(PHONE);
  await login(page, state.users.admin);

  const paths = [
    "/",
    "/incidents",
    `/incidents/${state.incidents.latency}`,
    "/services",
    "/services/checkout",
  ];
  for (const path of paths) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");

    const scrollWidth = await page.evaluate(
      () => document.documentElement.scrollWidth,
    );
    expect(scrollWidth, `page width of ${path}`).toBeLessThanOrEqual(
      PHONE.width,
    );

    const header = await page.locator("header").boundingBox();
    const user = await page.getByTestId("current-user").boundingBox();
    expect(header).not.toBeNull();
    expect(user).not.toBeNull();
    expect(user!.y + user!.height, `user box of ${path}`).toBeLessThanOrEqual(
      header!.y + header!.height,
    );
    expect(user!.x + user!.width).toBeLessThanOrEqual(PHONE.width);
  }
});

test("admin nav fits laptop widths", async ({ page, state }) => {
  await login(page, state.users.admin);
  for (const width of [1024, 1280, 1366, 1440]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto("/");

    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `page width at ${width} px`).toBeLessThanOrEqual(width);
    const signOut = await page.getByRole("button", { name: "Sign out" }).boundingBox();
    expect(signOut, `sign-out button at ${width} px`).not.toBeNull();
    expect(signOut!.x + signOut!.width).toBeLessThanOrEqual(width);
    // The name is truncated, never squeezed to nothing.
    const name = await page.getByTestId("current-user").boundingBox();
    expect(name!.width, `user name at ${width} px`).toBeGreaterThan(40);
  }
});

test("incident list filters resolved in a preset", async ({ page, state, db }) => {
  await login(page, state.users.viewer);
  await page.goto("/incidents?range=24h&by=resolved");

  const { rows } = await db.query<{ count: number }>(
    "SELECT count(*)::int AS count FROM incident WHERE resolved_at >= now() - interval '24 hours'",
  );
  const count = rows[0]!.count;
  const noun = count === 1 ? "incident" : "incidents";
  await expect(
    page.getByText(`${count} ${noun} resolved in the last 24 hours`),
  ).toBeVisible();
});

test("list refresh costs one request", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto("/incidents");
  await page.waitForLoadState("networkidle");

  const requests: string[] = [];
  const record = (request: Request) => {
    if (request.url().includes("_rsc=")) requests.push(request.url());
  };
  page.on("request", record);
  // The list refreshes every 10 s, so 12 s cover exactly one refresh.
  await page.waitForTimeout(12_000);
  page.off("request", record);

  expect(requests).toHaveLength(1);
  expect(new URL(requests[0]!).pathname).toBe("/incidents");
});

test("open incident shows raised severity", async ({ page, state, db }) => {
  const id = state.incidents.viewerTarget;
  const { rows } = await db.query<{ severity: string; status: string }>(
    "SELECT severity, status FROM incident WHERE id = $1",
    [id],
  );
  expect(rows[0]!.status).not.toBe("resolved");
  const before = rows[0]!.severity;

  await login(page, state.users.admin);
  await page.goto(`/incidents/${id}`);
  const badge = page.getByTestId("incident-severity");
  await expect(badge).toHaveText(before.toUpperCase());

  // The detector raises the severity of an open incident in place, with no
  // timeline event. The page's own refresh, every 15 s, must show it.
  const raised = before === "sev1" ? "sev2" : "sev1";
  await db.query("UPDATE incident SET severity = $2 WHERE id = $1", [
    id,
    raised,
  ]);
  try {
    await expect(badge).toHaveText(raised.toUpperCase(), { timeout: 25_000 });
  } finally {
    await db.query("UPDATE incident SET severity = $2 WHERE id = $1", [
      id,
      before,
    ]);
  }
});

test("favicon redirects to the app icon", async ({ request }) => {
  const redirect = await request.get("/favicon.ico", { maxRedirects: 0 });
  expect(redirect.status()).toBe(308);
  expect(redirect.headers()["location"]).toBe("/icon.svg");

  const icon = await request.get("/icon.svg");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toContain("image/svg+xml");
});

test("runbook scores carry a label", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto(`/incidents/${state.incidents.latency}`);

  const scores = page.getByTestId("match-score");
  await expect(scores.first()).toHaveText("match score 0.90");
  await expect(scores.nth(1)).toHaveText("match score 0.35");
});

test("explanation shows onset and deviation", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto(`/incidents/${state.incidents.latency}`);

  const explanation = page.getByTestId("incident-explanation");
  await expect(explanation.getByTestId("onset-point")).toContainText(
    "Observed",
  );
  await expect(explanation.getByTestId("max-deviation-point")).toContainText(
    "Observed",
  );
  await expect(explanation).toContainText("Largest deviation");
  // latency_p99_ms values carry the chart's unit.
  await expect(explanation.getByTestId("onset-point")).toContainText(/Observed[\d.,]+ ms/);
  await expect(explanation).toContainText(/[\d.,]+ ms above the expected range/);
});
