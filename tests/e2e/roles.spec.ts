import { readdir } from "node:fs/promises";
import path from "node:path";

import { hashPassword } from "@/lib/auth/password";

import { expect, login, test } from "./support/fixtures";
import type { E2eUser } from "./support/state";

// Server-side role checks of the dashboard pages: every page sends a
// visitor without a session to the login page, and the admin-only settings
// pages reject viewers and managers while the reports page lets managers
// export.

const DASHBOARD_ROOT = path.resolve(import.meta.dirname, "../../app/(dashboard)");

const MANAGER: E2eUser = {
  email: "manager@roles-e2e.test",
  password: "manager-password-2026",
  name: "Mina Manager",
};

/** Lists the URL of every dashboard page, with placeholders for its path parameters. */
async function dashboardUrls(dir = DASHBOARD_ROOT): Promise<string[]> {
  const urls: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith("_")) {
      urls.push(...(await dashboardUrls(full)));
    } else if (entry.name === "page.tsx") {
      const relative = path.relative(DASHBOARD_ROOT, dir).split(path.sep).join("/");
      const filled = relative.replace(/\[([A-Za-z]+)\]/g, (_, name: string) =>
        name === "slug" ? "checkout" : "1",
      );
      urls.push(`/${filled}`);
    }
  }
  return urls.sort();
}

test("signed-out visits to every page redirect to login", async ({ playwright, state }) => {
  const urls = await dashboardUrls();
  expect(urls).toContain("/settings/notifications");
  expect(urls.length).toBeGreaterThan(10);

  const anonymous = await playwright.request.newContext({ baseURL: state.baseUrl });
  for (const url of urls) {
    const response = await anonymous.get(url, { maxRedirects: 0 });
    expect(response.status(), url).toBe(307);
    expect(new URL(response.headers().location ?? "", state.baseUrl).pathname, url).toBe("/login");
  }
  await anonymous.dispose();
});

test("settings pages reject viewers", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto("/settings/notifications");
  await expect(page.getByText("Only admins can configure notifications; your role is viewer.")).toBeVisible();
  await page.goto("/settings/runbook-allowlist");
  await expect(page.getByText("Only admins can change the runbook allowlist; your role is viewer.")).toBeVisible();
  await page.goto("/settings");
  await expect(page.getByText("Only admins can change settings; your role is viewer.")).toBeVisible();
});

test("settings pages open for admins", async ({ page, state }) => {
  await login(page, state.users.admin);
  for (const url of ["/settings", "/settings/notifications", "/settings/runbook-allowlist"]) {
    await page.goto(url);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expect(page.getByText(/^Only admins can/)).toHaveCount(0);
  }
});

test("manager exports reports but not settings", async ({ page, state, db }) => {
  await db.query(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ($1, $2, $3, 'manager')
     ON CONFLICT (email) DO UPDATE SET role = 'manager', password_hash = EXCLUDED.password_hash`,
    [MANAGER.email, MANAGER.name, await hashPassword(MANAGER.password)],
  );
  await login(page, MANAGER);

  await page.goto("/settings/notifications");
  await expect(page.getByText("Only admins can configure notifications; your role is manager.")).toBeVisible();
  await page.goto("/settings/runbook-allowlist");
  await expect(page.getByText("Only admins can change the runbook allowlist; your role is manager.")).toBeVisible();

  await page.goto("/reports");
  await expect(page.getByTestId("download-pdf")).toBeVisible();
  await expect(page.getByTestId("export-forbidden")).toHaveCount(0);
  const csv = await page.request.get("/api/v1/reports/reliability.csv?range=7d");
  expect(csv.status()).toBe(200);

  // Managers act on no incident: the API rejects an acknowledge with 403.
  const acknowledge = await page.request.post(
    `/api/v1/incidents/${state.incidents.viewerTarget}/acknowledge`,
    { data: {}, headers: { "content-type": "application/json" } },
  );
  expect(acknowledge.status()).toBe(403);
});
