import { test as base, expect, type Page } from "@playwright/test";
import pg from "pg";

import { readState, type E2eState, type E2eUser } from "./state";

// Test fixtures: the set-up's state, baseURL pointing at the server it
// started, and a pg client on the test database for checks behind the UI.

type Fixtures = { state: E2eState; db: pg.Client };

export const test = base.extend<Fixtures>({
  state: async ({}, use) => {
    await use(readState());
  },
  baseURL: async ({}, use) => {
    await use(readState().baseUrl);
  },
  db: async ({ state }, use) => {
    const client = new pg.Client({ connectionString: state.databaseUrl });
    await client.connect();
    await use(client);
    await client.end();
  },
});

export { expect };

/** Signs in through the login form and waits for the overview. */
export async function login(page: Page, user: E2eUser): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}
