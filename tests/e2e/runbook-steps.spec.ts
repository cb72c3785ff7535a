import { startStepPeer, type StepPeer } from "@/tests/support/step-peers";

import { expect, login, test } from "./support/fixtures";

// Runbook steps against the running server and worker: an admin allows the
// receiver's host and port on the allowlist page, a responder runs a step
// from the incident page and sees the response in the run list and the
// timeline, a step to a port that is not allowed is refused without a
// request, a viewer gets no Run button, and the admin removes the host. The receivers are HTTP servers
// on 127.0.0.1 that this test starts.

let receiver: StepPeer;
let unlisted: StepPeer;
let incidentId: number;

test.describe.configure({ mode: "serial" });

test.beforeAll(async () => {
  receiver = await startStepPeer([{ status: 200, body: "cache flushed on 3 nodes" }]);
  unlisted = await startStepPeer([{ status: 200, body: "must not be reached" }]);
});

test.afterAll(async () => {
  await receiver.close();
  await unlisted.close();
});

test("admin allows the receiver's host", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByRole("link", { name: "Runbook allowlist" }).click();
  await expect(page.getByRole("heading", { name: "Runbook allowlist", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Add allowed host" });
  await form.getByLabel("Host name or IP address").fill("https://127.0.0.1");
  await form.getByRole("button", { name: "Add host" }).click();
  await expect(form.getByRole("alert")).toContainText("host must be a host name or IP address without a scheme");

  await form.getByLabel("Host name or IP address").fill("127.0.0.1");
  await form.getByLabel("Port (empty: any)").fill(String(receiver.port));
  await form.getByLabel("Note").fill("cache service on this machine");
  await form.getByRole("button", { name: "Add host" }).click();
  await expect(form.getByRole("status")).toHaveText(`Added 127.0.0.1:${receiver.port}.`);
  const list = page.getByTestId("allowed-host-list");
  await expect(list).toContainText(`127.0.0.1:${receiver.port}`);
  await expect(list).toContainText("cache service on this machine");
  await expect(list).toContainText(`added by ${state.users.admin.name}`);
});

test("responder runs a step and sees the response", async ({ page, state, db }) => {
  const { rows: incidents } = await db.query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source, dedup_key, summary, opened_at)
     SELECT id, 'Checkout cache hit rate fell', 'triggered', 'sev2', 'manual', 'e2e:runbook-steps', 'Cache misses rose', now()
       FROM service WHERE slug = 'checkout'
     RETURNING id`,
  );
  incidentId = incidents[0]!.id;
  const steps = [
    {
      id: "flush-cache",
      title: "Flush the cache",
      method: "POST",
      url: `${receiver.origin}/flush?incident={{incident.id}}`,
      body: { service: "{{service.slug}}" },
      timeoutSeconds: 5,
      retries: 1,
    },
    {
      id: "notify-unlisted",
      title: "Call an unlisted port",
      method: "POST",
      url: `${unlisted.origin}/hook`,
      timeoutSeconds: 5,
      retries: 0,
    },
  ];
  const { rows: runbooks } = await db.query<{ id: number }>(
    `INSERT INTO runbook (slug, title, body, steps, current_version)
     VALUES ('e2e-flush-cache', 'Flush the checkout cache', 'Flush, then watch the hit rate.', $1::jsonb, 1)
     RETURNING id`,
    [JSON.stringify(steps)],
  );
  await db.query(
    `INSERT INTO incident_runbook (incident_id, runbook_id, score, reason) VALUES ($1, $2, 4, 'service checkout')`,
    [incidentId, runbooks[0]!.id],
  );

  await login(page, state.users.responder);
  await page.goto(`/incidents/${incidentId}`);
  await expect(page.getByRole("heading", { name: "Runbook steps" })).toBeVisible();
  // Only the step whose port is not allowed carries the warning.
  await expect(page.getByTestId("step-host-not-listed")).toHaveCount(1);
  await page.getByRole("button", { name: "Run step Flush the cache" }).click();
  await expect(page.getByText(/^Run \d+ queued\.$/)).toBeVisible();

  // The card refreshes itself while a run is queued or running.
  const run = page.getByTestId("runbook-step-run").filter({ hasText: "Flush the cache" });
  await expect(run).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(run).toContainText("HTTP 200");
  await expect(run).toContainText(`run by ${state.users.responder.name}`);
  await expect(run.getByLabel("Response of Flush the cache")).toHaveText("cache flushed on 3 nodes");

  await page.reload();
  const timeline = page.getByTestId("incident-timeline");
  await expect(timeline).toContainText(`${state.users.responder.name} ran step "Flush the cache"`);
  await expect(timeline).toContainText("succeeded with HTTP 200 after 1 attempt: cache flushed on 3 nodes");

  expect(receiver.requests).toHaveLength(1);
  expect(receiver.requests[0]!.path).toBe(`/flush?incident=${incidentId}`);
  expect(JSON.parse(receiver.requests[0]!.body)).toEqual({ service: "checkout" });
});

test("step to an unlisted port is refused", async ({ page, state, db }) => {
  await login(page, state.users.responder);
  await page.goto(`/incidents/${incidentId}`);
  await page.getByRole("button", { name: "Run step Call an unlisted port" }).click();
  const run = page.getByTestId("runbook-step-run").filter({ hasText: "Call an unlisted port" });
  await expect(run).toHaveAttribute("data-status", "refused", { timeout: 30_000 });
  await expect(run).toContainText(`127.0.0.1:${unlisted.port} is not on the runbook allowlist`);
  expect(unlisted.requests).toHaveLength(0);

  const { rows } = await db.query(
    "SELECT status, attempts FROM runbook_step_run WHERE incident_id = $1 AND step_id = 'notify-unlisted'",
    [incidentId],
  );
  expect(rows).toEqual([{ status: "refused", attempts: 0 }]);
});

test("viewer sees runs but no Run button", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto(`/incidents/${incidentId}`);
  await expect(page.getByRole("heading", { name: "Runbook steps" })).toBeVisible();
  await expect(page.getByTestId("runbook-step-run").first()).toBeVisible();
  await expect(page.getByRole("button", { name: /^Run step/ })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await page.goto("/settings/runbook-allowlist");
  // Next.js adds its own empty role="alert" route announcer, so the check
  // looks for the page's message by text.
  await expect(
    page.getByRole("alert").filter({ hasText: "Only admins can change the runbook allowlist" }),
  ).toBeVisible();
  await expect(page.getByTestId("allowed-host-list")).toHaveCount(0);
});

test("admin removes the host", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  await page.goto("/settings/runbook-allowlist");
  const label = `127.0.0.1:${receiver.port}`;
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: `Remove ${label}` }).click();
  // The entry's row, with the button and its message, goes away when the
  // page refreshes after the removal.
  await expect(page.getByText("No hosts yet")).toBeVisible();
  await expect(page.getByTestId("allowed-host-list")).toHaveCount(0);
  const { rows } = await db.query("SELECT count(*)::int AS count FROM runbook_allowed_host");
  expect(rows[0]!.count).toBe(0);
});
