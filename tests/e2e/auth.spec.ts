import { expect, login, test } from "./support/fixtures";

test("signed-out visit redirects to login", async ({ page }) => {
  await page.goto("/incidents");

  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test("wrong password shows an error", async ({ page, state }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(state.users.admin.email);
  await page
    .getByLabel("Password", { exact: true })
    .fill(`${state.users.admin.password}-wrong`);
  await page.getByRole("button", { name: "Sign in" }).click();

  const error = page.getByRole("alert").filter({ hasText: "Sign-in failed" });
  await expect(error).toContainText("Invalid email or password.");
  await expect(page).toHaveURL(/\/login/);
});

test("sign out returns to login", async ({ page, state }) => {
  await login(page, state.users.admin);

  await page.getByRole("button", { name: "Sign out" }).click();

  await expect(page).toHaveURL(/\/login/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login$/);
});
