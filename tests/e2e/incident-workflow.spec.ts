import { readFile } from "node:fs/promises";

import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// The incident workflow in the browser: acknowledge, a note, severity and
// assignee, a postmortem with a follow-up item, the Markdown download,
// resolve and reopen. Each test opens its own incident, so the other specs'
// seeded incidents stay as they are.

async function openIncident(db: pg.Client, title: string): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO incident (service_id, title, status, severity, source,
       dedup_key, opened_at, summary)
     SELECT id, $1, 'triggered', 'sev3', 'manual', $2,
            now() - interval '20 minutes', 'Opened by the browser test.'
       FROM service WHERE slug = 'checkout'
     RETURNING id`,
    [title, `e2e:workflow:${title}:${Date.now()}`],
  );
  const id = rows[0]!.id;
  await db.query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name,
       message, created_at)
     VALUES ($1, 'opened', 'system', 'browser test', 'Opened for the workflow test',
             now() - interval '20 minutes')`,
    [id],
  );
  return id;
}

test("run an incident from acknowledge to postmortem", async ({ page, state, db }) => {
  const responder = state.users.responder;
  const admin = state.users.admin;
  const id = await openIncident(db, "Checkout payments failing");
  await login(page, responder);
  await page.goto(`/incidents/${id}`);
  const timeline = page.getByTestId("incident-timeline");

  await page.getByRole("button", { name: "Acknowledge" }).click();
  await expect(page.getByTestId("incident-status").first()).toHaveText("Acknowledged");
  await expect(timeline).toContainText(`${responder.name} acknowledged the incident`);

  await page.getByLabel("Note", { exact: true }).fill("Payments provider returns 502; failing over.");
  await page.getByRole("button", { name: "Add note" }).click();
  await expect(page.getByTestId("timeline-note")).toHaveText(
    "Payments provider returns 502; failing over.",
  );
  await expect(page.getByLabel("Note", { exact: true })).toHaveValue("");

  await page.getByLabel("Severity", { exact: true }).selectOption("sev1");
  await expect(timeline).toContainText(
    `${responder.name} changed the severity from SEV3 to SEV1`,
  );
  await expect(page.getByTestId("incident-severity")).toHaveText("SEV1");

  await page.getByLabel("Assignee", { exact: true }).selectOption({ label: admin.name });
  await expect(timeline).toContainText(
    `${responder.name} assigned the incident to ${admin.name}`,
  );
  await expect(page.getByLabel("Assignee", { exact: true })).toHaveValue(/\d+/);

  const postmortem = page.getByTestId("incident-postmortem");
  await postmortem.getByLabel("Summary").fill("Card payments failed for 12 minutes.");
  await postmortem.getByLabel("Impact").fill("About 400 checkouts were lost.");
  await postmortem.getByLabel("Root cause").fill("The provider's EU endpoint failed.");
  await postmortem.getByRole("button", { name: "Add follow-up" }).click();
  await postmortem.getByLabel("Follow-up 1 description").fill("Automate provider failover");
  await postmortem.getByLabel("Follow-up 1 owner").selectOption({ label: admin.name });
  await postmortem.getByLabel("Follow-up 1 due date").fill("2027-01-15");
  await postmortem.getByRole("button", { name: "Save postmortem" }).click();
  await expect(page.getByTestId("postmortem-version")).toContainText(
    `Version 1, saved by ${responder.name}`,
  );
  await expect(timeline).toContainText(`${responder.name} wrote the postmortem`);

  const downloadPromise = page.waitForEvent("download");
  await postmortem.getByRole("link", { name: "Export Markdown" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toBe(`incident-${id}-postmortem.md`);
  const markdown = await readFile((await download.path())!, "utf8");
  expect(markdown).toContain(`# Postmortem: Checkout payments failing (incident #${id})`);
  expect(markdown).toContain("| Severity | SEV1 |");
  expect(markdown).toMatch(/\| Time to acknowledge \(MTTA\) \| 2\d min/);
  expect(markdown).toContain(`| Assignee | ${admin.name} |`);
  expect(markdown).toContain("## Root cause\n\nThe provider's EU endpoint failed.");
  expect(markdown).toContain(
    `- [ ] Automate provider failover (owner: ${admin.name}, due 2027-01-15)`,
  );
  expect(markdown).toContain("Payments provider returns 502; failing over.");

  await page.getByRole("button", { name: "Resolve" }).click();
  await expect(page.getByTestId("incident-status").first()).toHaveText("Resolved");
  await page.getByRole("button", { name: "Reopen" }).click();
  await page.getByLabel("Why reopen it?").fill("Errors came back after failover");
  await page.getByRole("button", { name: "Reopen incident" }).click();
  await expect(page.getByTestId("incident-status").first()).toHaveText("Triggered");
  await expect(timeline).toContainText(
    `${responder.name} reopened the incident: Errors came back after failover.`,
  );

  // The follow-up is marked done in a second save, which names version 1.
  await page.reload();
  await postmortem.getByLabel("Follow-up 1 done").check();
  await postmortem.getByRole("button", { name: "Save postmortem" }).click();
  await expect(page.getByTestId("postmortem-version")).toContainText("Version 2");

  await page.goto("/incidents");
  const row = page.getByRole("row").filter({ hasText: "Checkout payments failing" });
  await expect(row.getByTestId("incident-row-assignee")).toHaveText(
    `assigned to ${admin.name}`,
  );
  await page.getByRole("link", { name: "Unassigned", exact: true }).click();
  await expect(page).toHaveURL(/assignee=none/);
  await expect(
    page.getByRole("row").filter({ hasText: "Checkout payments failing" }),
  ).toHaveCount(0);

  const { rows } = await db.query<{ kind: string; actor_name: string }>(
    `SELECT kind, actor_name FROM incident_event
      WHERE incident_id = $1 AND kind <> 'opened' ORDER BY created_at, id`,
    [id],
  );
  expect(rows.map((row) => row.kind)).toEqual([
    "acknowledged",
    "note",
    "severity_changed",
    "assigned",
    "postmortem_updated",
    "resolved",
    "reopened",
    "postmortem_updated",
  ]);
  expect(new Set(rows.map((row) => row.actor_name))).toEqual(new Set([responder.name]));
});

test("viewer sees the workflow read-only", async ({ page, state, db }) => {
  const id = await openIncident(db, "Checkout read-only check");
  await db.query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message)
     VALUES ($1, 'note', 'token', 'API token oncall-bot', 'Written by a script')`,
    [id],
  );
  await login(page, state.users.viewer);
  await page.goto(`/incidents/${id}`);

  await expect(page.getByTestId("read-only-note")).toBeVisible();
  await expect(page.getByLabel("Severity", { exact: true })).toBeDisabled();
  await expect(page.getByLabel("Assignee", { exact: true })).toBeDisabled();
  await expect(page.getByLabel("Note", { exact: true })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save postmortem" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Export Markdown" })).toBeVisible();
  const timeline = page.getByTestId("incident-timeline");
  await expect(timeline).toContainText("API token oncall-bot");
  await expect(timeline).toContainText("API token");
  await expect(page.getByTestId("timeline-note")).toHaveText("Written by a script");
});
