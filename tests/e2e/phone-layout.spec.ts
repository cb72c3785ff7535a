import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";

import type { Page } from "@playwright/test";
import bcrypt from "bcryptjs";
import pg from "pg";

import { createTestDatabase, type TestDatabase } from "@/tests/support/database";

import { expect, login, test } from "./support/fixtures";
import {
  findFreePort,
  startProcess,
  stopProcess,
  waitForHttp,
} from "./support/processes";
import type { E2eUser } from "./support/state";

// Every dashboard page at 375 x 812, the iPhone X viewport in CSS pixels.
// The page itself must not scroll sideways, because wide tables and charts
// scroll or shrink inside their own box, and the last nav link must be
// reachable. The tests walk the pages once with the seeded data and once
// against a second server on an empty database, where each page must show
// an empty state.

const PHONE = { width: 375, height: 812 };
const PORT_RANGE = (process.env.VIGIL_E2E_PORTS ?? "3140-3159")
  .split("-")
  .map(Number) as [number, number];
const DIST_DIR = process.env.VIGIL_E2E_DIST_DIR ?? ".next-test";
const SERVER_START_TIMEOUT_MS = 90_000;

/** Pages that need no seeded ids. */
const STATIC_PAGES = [
  "/",
  "/incidents",
  "/deployments",
  "/services",
  "/slos",
  "/models",
  "/runbooks",
  "/runbooks/new",
  "/oncall",
  "/reports",
  "/settings",
  "/settings/notifications",
  "/settings/runbook-allowlist",
  "/settings/teams",
];

/**
 * Pages without an empty state: a form, a list whose form sits above it, and
 * the settings index, which lists pages rather than data.
 */
const WITHOUT_EMPTY_STATE = ["/runbooks/new", "/settings", "/settings/teams"];

/**
 * Loads `url`, saves a full-page screenshot in the test's output folder and
 * checks that the page is no wider than the viewport. The check is soft, so
 * one run lists every page that is too wide.
 */
async function expectNoSidewaysScroll(page: Page, url: string, shot: string) {
  const response = await page.goto(url);
  expect(response?.status(), `status of ${url}`).toBeLessThan(400);
  await page.waitForLoadState("networkidle");
  const widths = await page.evaluate(() => ({
    scroll: document.scrollingElement!.scrollWidth,
    inner: window.innerWidth,
  }));
  await page.screenshot({
    path: test.info().outputPath(`${shot}.png`),
    fullPage: true,
  });
  expect.soft(widths.scroll, `page width of ${url}`).toBeLessThanOrEqual(
    widths.inner,
  );
}

/** Opens the last nav link, which sits past the right edge of a phone. */
async function expectLastNavLinkReachable(page: Page) {
  const links = page.getByRole("navigation", { name: "Main" }).getByRole("link");
  const last = links.last();
  const href = await last.getAttribute("href");
  await last.click();
  await expect(page).toHaveURL(new RegExp(`${href}$`));
}

test("pages fit a phone with data", async ({ page, state, db }) => {
  test.setTimeout(180_000);
  const seriesRow = await db.query<{ series_id: number }>(
    "SELECT series_id FROM incident WHERE id = $1",
    [state.incidents.latency],
  );
  const runbookRow = await db.query<{ slug: string }>(
    "SELECT slug FROM runbook ORDER BY id LIMIT 1",
  );
  const pages = [
    ...STATIC_PAGES,
    `/incidents/${state.incidents.latency}`,
    "/services/checkout",
    "/services/checkout?range=24h",
    `/models/${seriesRow.rows[0]!.series_id}`,
    `/runbooks/${runbookRow.rows[0]!.slug}`,
  ];

  await page.setViewportSize(PHONE);
  // Admins see the most nav links, so their bar is the widest.
  await login(page, state.users.admin);
  for (const [index, url] of pages.entries()) {
    await expectNoSidewaysScroll(page, url, `data-${index}`);
  }
  await page.goto("/");
  await expectLastNavLinkReachable(page);
});

test.describe("empty database", () => {
  let database: TestDatabase | undefined;
  let serverPid: number | undefined;
  let baseUrl = "";
  const admin: E2eUser = {
    email: "empty-admin@vigil.test",
    name: "Emma Empty",
    password: randomBytes(18).toString("base64url"),
  };

  test.beforeAll(async () => {
    test.setTimeout(SERVER_START_TIMEOUT_MS + 60_000);
    database = await createTestDatabase("phone_empty");
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // Cost 4 instead of the app's 12: the hash only has to verify.
    await client.query(
      `INSERT INTO user_account (email, name, password_hash, role)
       VALUES ($1, $2, $3, 'admin')`,
      [admin.email, admin.name, await bcrypt.hash(admin.password, 4)],
    );
    await client.end();

    const port = await findFreePort(...PORT_RANGE);
    baseUrl = `http://127.0.0.1:${port}`;
    const logDir = test.info().outputPath();
    await mkdir(logDir, { recursive: true });
    const server = startProcess(
      "node_modules/.bin/next",
      ["start", "--port", String(port), "--hostname", "127.0.0.1"],
      {
        ...process.env,
        NODE_ENV: "production",
        DATABASE_URL: database.url,
        NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
        NEXTAUTH_URL: baseUrl,
        VIGIL_NEXT_DIST_DIR: DIST_DIR,
        VIGIL_PROCESS: "web",
      },
      path.join(logDir, "next-empty.log"),
    );
    serverPid = server.pid;
    await waitForHttp(`${baseUrl}/login`, SERVER_START_TIMEOUT_MS, server);
  });

  test.afterAll(async () => {
    if (serverPid !== undefined) await stopProcess(serverPid);
    await database?.drop();
  });

  test("pages show empty states on a phone", async ({ page }) => {
    test.setTimeout(180_000);
    await page.setViewportSize(PHONE);
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password", { exact: true }).fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

    for (const [index, url] of STATIC_PAGES.entries()) {
      await expectNoSidewaysScroll(page, `${baseUrl}${url}`, `empty-${index}`);
      if (!WITHOUT_EMPTY_STATE.includes(url)) {
        await expect.soft(
          page.getByTestId("empty-state").first(),
          `empty state of ${url}`,
        ).toBeVisible();
      }
    }
    await page.goto(`${baseUrl}/`);
    await expectLastNavLinkReachable(page);
  });
});
