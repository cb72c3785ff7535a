import type { Request } from "@playwright/test";

import { expect, login, test } from "./support/fixtures";

test("viewer sees no incident actions", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto(`/incidents/${state.incidents.viewerTarget}`);

  await expect(page.getByTestId("read-only-note")).toBeVisible();
  await expect(page.getByRole("button", { name: "Acknowledge" })).toHaveCount(
    0,
  );
  await expect(page.getByRole("button", { name: "Resolve" })).toHaveCount(0);
});

test("server action rejects a viewer", async ({ browser, state, db }) => {
  const incidentId = state.incidents.viewerTarget;
  const url = `${state.baseUrl}/incidents/${incidentId}`;

  // Capture the acknowledge request an admin's click would send, without
  // letting it reach the server, to replay it with a viewer's session.
  const adminContext = await browser.newContext({ baseURL: state.baseUrl });
  const adminPage = await adminContext.newPage();
  await login(adminPage, state.users.admin);
  await adminPage.goto(url);
  let captured: Request | undefined;
  await adminPage.route(`**/incidents/${incidentId}`, async (route) => {
    if (
      route.request().method() === "POST" &&
      route.request().headers()["next-action"]
    ) {
      captured = route.request();
      await route.abort();
    } else {
      await route.continue();
    }
  });
  await adminPage.getByRole("button", { name: "Acknowledge" }).click();
  await expect.poll(() => captured).toBeDefined();
  const actionHeaders = await captured!.allHeaders();
  const body = captured!.postData() ?? "";
  await adminContext.close();

  const viewerContext = await browser.newContext({ baseURL: state.baseUrl });
  const viewerPage = await viewerContext.newPage();
  await login(viewerPage, state.users.viewer);
  const response = await viewerPage.request.post(url, {
    headers: {
      "next-action": actionHeaders["next-action"]!,
      "content-type":
        actionHeaders["content-type"] ?? "text/plain;charset=UTF-8",
      accept: "text/x-component",
    },
    data: body,
  });
  const text = await response.text();
  await viewerContext.close();

  expect(response.status()).toBe(200);
  expect(text).toContain("forbidden");
  const { rows } = await db.query(
    `SELECT status, acknowledged_by_id FROM incident WHERE id = $1`,
    [incidentId],
  );
  expect(rows).toEqual([{ status: "triggered", acknowledged_by_id: null }]);
  const events = await db.query(
    `SELECT 1 FROM incident_event WHERE incident_id = $1 AND kind = 'acknowledged'`,
    [incidentId],
  );
  expect(events.rowCount).toBe(0);
});
