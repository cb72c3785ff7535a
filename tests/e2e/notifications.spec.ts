import { enqueueIncidentNotifications } from "@/lib/notifications/enqueue";
import { startHttpPeer, type HttpPeer } from "@/tests/support/notification-peers";

import { expect, login, test } from "./support/fixtures";

// The notification settings page against the running server and worker: an
// admin adds a webhook channel, sends a test notification, and finds it
// delivered in the log. A routing rule then sends an incident to the
// channel, and the incident's timeline shows the notification. The receiver
// is an HTTP server on 127.0.0.1 that this test starts.

let peer: HttpPeer;

test.beforeAll(async () => {
  peer = await startHttpPeer("ok");
});

test.afterAll(async () => {
  await peer.close();
});

test.describe.configure({ mode: "serial" });

test("admin sends a test notification", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Notifications" }).click();
  await expect(page.getByRole("heading", { name: "Notifications", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Add notification channel" });
  await form.getByLabel("Name").fill("e2e webhook");
  await form.getByLabel("Type").selectOption("webhook");
  await form.getByLabel("Webhook URL").fill(peer.url);
  await form.getByRole("button", { name: "Add channel" }).click();
  await expect(form.getByRole("status")).toHaveText("Channel e2e webhook added.");

  const channels = page.getByTestId("channel-list");
  await expect(channels).toContainText("e2e webhook");
  // The generic webhook URL is shown without its query string only, so
  // the path stays visible here.
  await expect(channels).toContainText(new URL(peer.url).pathname);

  await page.getByRole("button", { name: "Send test notification to e2e webhook" }).click();
  await expect(page.getByText(/^Test notification \d+ queued\.$/)).toBeVisible();

  // The page refreshes itself while a delivery is open.
  const log = page.getByTestId("delivery-log");
  const row = log.locator("tbody tr").first();
  await expect(row).toHaveAttribute("data-status", "sent", { timeout: 30_000 });
  await expect(row).toContainText("e2e webhook");
  await expect(row).toContainText("test");
  await expect(row).toContainText("HTTP 200");

  expect(peer.requests).toHaveLength(1);
  const body = JSON.parse(peer.requests[0]!.body) as { event: string; incident: { title: string } };
  expect(body.event).toBe("incident.test");
  expect(body.incident.title).toBe("Test notification from Vigil to channel e2e webhook");

  const { rows } = await db.query(
    "SELECT attempt, succeeded, http_status FROM notification_attempt",
  );
  expect(rows).toEqual([{ attempt: 1, succeeded: true, http_status: 200 }]);
});

test("incident timeline shows the notification", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  await page.goto("/settings/notifications");

  // Route the checkout service's incidents to the channel of the first test.
  const form = page.getByRole("form", { name: "Add routing rule" });
  await form.getByLabel("Channel").selectOption({ label: "e2e webhook" });
  await form.getByLabel("Service").selectOption("checkout");
  await form.getByLabel("Minimum severity").selectOption("sev2");
  await form.getByRole("button", { name: "Add rule" }).click();
  await expect(form.getByRole("status")).toHaveText("Routing rule added.");
  await expect(page.getByTestId("rule-list")).toContainText("e2e webhook gets checkout, sev2 or more severe");

  // An incident opened the way the worker and the alert receivers do it:
  // the incident row and its notifications in one transaction.
  await db.query("BEGIN");
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source, dedup_key, summary, opened_at)
     SELECT id, 'Checkout 5xx above 5%', 'triggered', 'sev1', 'manual', 'e2e:notify', 'Errors rose', now()
       FROM service WHERE slug = 'checkout'
     RETURNING id`,
  );
  const incidentId = rows[0]!.id;
  await enqueueIncidentNotifications(db, incidentId, "opened");
  await db.query("COMMIT");

  await expect
    .poll(() => peer.requests.filter((request) => request.body.includes('"incident.opened"')).length, {
      timeout: 30_000,
    })
    .toBe(1);
  await page.goto(`/incidents/${incidentId}`);
  await expect(page.getByTestId("incident-timeline")).toContainText(
    "Notification of the opened event sent to webhook channel e2e webhook (HTTP 200)",
  );
});

test("viewer sees no notification settings", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await page.goto("/settings/notifications");
  // Next.js adds its own empty role="alert" route announcer, so the check
  // looks for the page's message by text.
  await expect(
    page.getByRole("alert").filter({ hasText: "Only admins can configure notifications" }),
  ).toBeVisible();
  await expect(page.getByTestId("channel-list")).toHaveCount(0);
});
