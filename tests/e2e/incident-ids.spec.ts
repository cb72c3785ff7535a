import { expect, login, test } from "./support/fixtures";

// Incident ids are PostgreSQL integers (int4), so a larger id in the path
// is an unknown incident and gets the 404 page, not a database error.

test("out-of-range incident ids get 404", async ({ page, state }) => {
  await login(page, state.users.viewer);

  for (const id of ["2147483647", "2147483648", "999999999999"]) {
    const response = await page.goto(`/incidents/${id}`);

    expect(response?.status(), `/incidents/${id}`).toBe(404);
  }
});
