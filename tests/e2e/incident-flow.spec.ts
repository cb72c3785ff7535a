import { expect, login, test } from "./support/fixtures";

const KPI_NAMES = [
  "uptime",
  "mttr",
  "incidentFrequency",
  "deploymentFrequency",
  "errorRate",
];

test("acknowledge and resolve an incident", async ({ page, state, db }) => {
  const admin = state.users.admin;
  const incidentId = state.incidents.latency;
  await login(page, admin);

  for (const name of KPI_NAMES) {
    const value = page.getByTestId(`kpi-${name}`).getByTestId("kpi-value");
    await expect(value).toBeVisible();
    await expect(value).not.toHaveText("No data");
    await expect(value).toHaveText(/\d/);
  }

  await page
    .getByRole("link", { name: "Checkout p99 latency above expected range" })
    .click();
  await expect(page).toHaveURL(new RegExp(`/incidents/${incidentId}$`));
  await expect(page.getByTestId("incident-status").first()).toHaveText(
    "Triggered",
  );

  await page.getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByTestId("incident-status").first()).toHaveText(
    "Acknowledged",
  );
  await expect(page.getByRole("button", { name: "Acknowledge" })).toHaveCount(
    0,
  );

  await page.reload();
  await expect(page.getByTestId("incident-status").first()).toHaveText(
    "Acknowledged",
  );
  await expect(page.getByTestId("acknowledged-info")).toContainText(
    `by ${admin.name}`,
  );
  await expect(page.getByTestId("incident-timeline")).toContainText(
    `${admin.name} acknowledged the incident`,
  );

  await page.getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByTestId("incident-status").first()).toHaveText(
    "Resolved",
  );
  await page.reload();
  await expect(page.getByTestId("resolved-info")).toContainText(
    `by ${admin.name}`,
  );
  await expect(page.getByRole("button", { name: "Resolve" })).toHaveCount(0);

  const { rows } = await db.query<{ kind: string; actor_name: string }>(
    `SELECT kind, actor_name FROM incident_event
      WHERE incident_id = $1 AND kind IN ('acknowledged', 'resolved') ORDER BY id`,
    [incidentId],
  );
  expect(rows).toEqual([
    { kind: "acknowledged", actor_name: admin.name },
    { kind: "resolved", actor_name: admin.name },
  ]);
});

test("second acknowledger sees who won", async ({ browser, state, db }) => {
  const incidentId = state.incidents.race;
  // Two contexts, so that each user has their own session cookie.
  const firstContext = await browser.newContext({ baseURL: state.baseUrl });
  const secondContext = await browser.newContext({ baseURL: state.baseUrl });
  const first = await firstContext.newPage();
  const secondPage = await secondContext.newPage();

  await login(first, state.users.admin);
  await login(secondPage, state.users.responder);
  await first.goto(`/incidents/${incidentId}`);
  await secondPage.goto(`/incidents/${incidentId}`);

  await first.getByRole("button", { name: "Acknowledge" }).click();
  await expect(first.getByTestId("incident-status").first()).toHaveText(
    "Acknowledged",
  );

  await secondPage.getByRole("button", { name: "Acknowledge" }).click();
  const result = secondPage.getByTestId("incident-action-result");
  await expect(result).toContainText("Already acknowledged");
  await expect(result).toContainText(
    `${state.users.admin.name} acknowledged this incident at`,
  );

  const { rows } = await db.query(
    `SELECT actor_name FROM incident_event WHERE incident_id = $1 AND kind = 'acknowledged'`,
    [incidentId],
  );
  expect(rows).toEqual([{ actor_name: state.users.admin.name }]);
  await firstContext.close();
  await secondContext.close();
});
