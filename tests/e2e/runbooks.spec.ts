import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// Runbooks in the browser: a responder marks a suggested runbook helpful on
// the incident page, which shows why it was suggested, an admin edits a runbook
// into a new version, views the old one with its diff and rolls back, and a
// viewer reads without edit controls.

type Seeded = { incidentId: number; runbookIds: [number, number]; titles: [string, string] };

/** Seeds an open alert incident with two suggested runbooks. */
async function seedSuggestedIncident(db: pg.Client, tag: string): Promise<Seeded> {
  const service = await db.query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $2) RETURNING id",
    [`rb-${tag}`, `Runbook service ${tag}`],
  );
  const titles: [string, string] = [`Queue backlog ${tag}`, `Consumer lag ${tag}`];
  const runbookIds: number[] = [];
  for (const [index, title] of titles.entries()) {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO runbook (slug, title, body, alert_names, current_version)
       VALUES ($1, $2, $3, '{QueueBacklog}', 1) RETURNING id`,
      [`rb-${tag}-${index}`, title, `# ${title}\n\nDrain the queue.`],
    );
    runbookIds.push(rows[0]!.id);
    await db.query(
      `INSERT INTO runbook_version
         (runbook_id, version, title, body, alert_names, author_type, author_name)
       VALUES ($1, 1, $2, $3, '{QueueBacklog}', 'system', 'test')`,
      [rows[0]!.id, title, `# ${title}\n\nDrain the queue.`],
    );
  }
  const incident = await db.query<{ id: number }>(
    `INSERT INTO incident
       (service_id, title, status, severity, source, dedup_key, summary, opened_at)
     VALUES ($1, $2, 'triggered', 'sev2', 'alert', $3, 'Queue backlog growing', now())
     RETURNING id`,
    [service.rows[0]!.id, `QueueBacklog on rb-${tag}`, `e2e:runbooks:${tag}`],
  );
  const incidentId = incident.rows[0]!.id;
  const breakdown = (rules: number, similarity: number) => ({
    rules: { points: rules, matched: ["alert QueueBacklog"], allMatched: true },
    similarity: { value: similarity, points: 4 * similarity },
    history: { helpful: 0, unhelpful: 0, incidents: 0, points: 0 },
    total: rules + 4 * similarity,
  });
  await db.query(
    `INSERT INTO incident_runbook (incident_id, runbook_id, score, reason, version, breakdown)
     VALUES ($1, $2, 4.2, 'alert QueueBacklog', 1, $3), ($1, $4, 3.8, 'alert QueueBacklog', 1, $5)`,
    [incidentId, runbookIds[0], breakdown(3, 0.3), runbookIds[1], breakdown(3, 0.2)],
  );
  return { incidentId, runbookIds: runbookIds as [number, number], titles };
}

test("responder marks a runbook helpful", async ({ page, state, db }) => {
  const seeded = await seedSuggestedIncident(db, `fb${Date.now()}`);
  const responder = state.users.responder;
  await login(page, responder);
  await page.goto(`/incidents/${seeded.incidentId}`);

  const first = page.getByTestId("runbook-suggestion").first();
  await expect(first).toContainText(seeded.titles[0]);
  const why = first.getByTestId("why-suggested");
  await expect(why).toContainText("alert QueueBacklog");
  await expect(why).toContainText("0.30 of 1");
  await expect(why).toContainText("no marks on similar resolved incidents");

  const helpful = first.getByRole("button", { name: "Helpful", exact: true });
  await expect(helpful).toHaveAttribute("aria-pressed", "false");
  await helpful.click();

  await expect(helpful).toHaveAttribute("aria-pressed", "true");
  await expect(first.getByTestId("runbook-feedback-counts")).toHaveText("1 helpful, 0 not helpful");
  await expect(page.getByTestId("incident-timeline")).toContainText(
    `Marked runbook "${seeded.titles[0]}" helpful`,
  );

  const second = page.getByTestId("runbook-suggestion").nth(1);
  await second.getByRole("button", { name: "Not helpful" }).click();
  await expect(second.getByTestId("runbook-feedback-counts")).toHaveText("0 helpful, 1 not helpful");

  const { rows } = await db.query(
    `SELECT runbook_id, helpful, actor_name FROM runbook_feedback
      WHERE incident_id = $1 ORDER BY runbook_id`,
    [seeded.incidentId],
  );
  expect(rows).toEqual([
    { runbook_id: seeded.runbookIds[0], helpful: true, actor_name: responder.name },
    { runbook_id: seeded.runbookIds[1], helpful: false, actor_name: responder.name },
  ]);

  await first.getByRole("link", { name: "Open the runbook page" }).click();
  await expect(page.getByTestId("runbook-feedback-summary")).toHaveText("1 helpful, 0 not helpful");
});

test("viewer sees no feedback buttons", async ({ page, state, db }) => {
  const seeded = await seedSuggestedIncident(db, `view${Date.now()}`);
  await login(page, state.users.viewer);
  await page.goto(`/incidents/${seeded.incidentId}`);

  const first = page.getByTestId("runbook-suggestion").first();
  await expect(first.getByTestId("runbook-feedback-counts")).toHaveText("0 helpful, 0 not helpful");
  await expect(first.getByRole("button", { name: "Helpful", exact: true })).toHaveCount(0);

  await page.getByRole("link", { name: "Runbooks" }).click();
  await expect(page.getByRole("heading", { name: "Runbooks" })).toBeVisible();
  await expect(page.getByRole("link", { name: "New runbook" })).toHaveCount(0);
});

test("admin edits, diffs and rolls back", async ({ page, state }) => {
  const slug = `rb-edit-${Date.now()}`;
  await login(page, state.users.admin);
  await page.goto("/runbooks/new");

  const form = page.getByTestId("runbook-form");
  await form.getByLabel("Slug").fill(slug);
  await form.getByLabel("Title").fill("Cache misses");
  await form.getByLabel("Body (Markdown)").fill("# Cache misses\n\nWarm the cache.\n\n<script>window.pwned = 1</script>");
  await form.getByLabel("Alert names").fill("CacheMiss*");
  await form.getByLabel("sev1").check();
  await form.getByLabel("Steps (YAML)").fill("- id: warm\n  title: Warm the cache\n  url: http://127.0.0.1:3246/warm\n");
  await form.getByRole("button", { name: "Create runbook" }).click();

  await expect(page).toHaveURL(new RegExp(`/runbooks/${slug}$`));
  // The page title comes first; the Markdown body has its own heading.
  await expect(page.getByRole("heading", { name: "Cache misses" }).first()).toBeVisible();
  await expect(page.getByTestId("runbook-body")).toContainText("Warm the cache.");
  await expect(page.getByTestId("runbook-body").locator("script")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  await expect(page.getByTestId("runbook-rules")).toContainText("CacheMiss*");
  await expect(page.getByTestId("runbook-steps")).toContainText("POST http://127.0.0.1:3246/warm");

  await page.getByRole("link", { name: "Edit" }).click();
  await form.getByLabel("Body (Markdown)").fill("# Cache misses\n\nRestart the cache nodes.");
  await form.getByLabel("Note").fill("restart instead");
  await form.getByRole("button", { name: "Save new version" }).click();

  await expect(page).toHaveURL(new RegExp(`/runbooks/${slug}$`));
  const versions = page.getByTestId("runbook-versions");
  await expect(versions).toContainText("Version 2");
  await expect(versions).toContainText("restart instead");
  await expect(page.getByTestId("runbook-body")).toContainText("Restart the cache nodes.");

  await versions.getByRole("link", { name: "Version 2" }).click();
  const diff = page.getByTestId("runbook-diff");
  await expect(diff).toContainText("- Warm the cache.");
  await expect(diff).toContainText("+ Restart the cache nodes.");

  await page.goto(`/runbooks/${slug}?version=1`);
  await page.getByRole("button", { name: "Roll back to version 1" }).click();
  await expect(page).toHaveURL(new RegExp(`/runbooks/${slug}$`));
  await expect(versions).toContainText("Version 3");
  await expect(versions).toContainText("rollback to version 1");
  await expect(page.getByTestId("runbook-body")).toContainText("Warm the cache.");

  await page.goto(`/runbooks?q=${slug}`);
  await expect(page.getByTestId("runbook-table")).toContainText("Cache misses");
});

test("form names an invalid field", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto("/runbooks/new");

  const form = page.getByTestId("runbook-form");
  await form.getByLabel("Slug").fill(`rb-bad-${Date.now()}`);
  await form.getByLabel("Title").fill("Bad step");
  await form.getByLabel("Body (Markdown)").fill("Body.");
  await form.getByLabel("Steps (YAML)").fill("- id: x\n  title: X\n  url: ftp://127.0.0.1/x\n");
  await form.getByRole("button", { name: "Create runbook" }).click();

  await expect(page.getByTestId("runbook-form-error")).toContainText("steps[0].url must use http or https");
  await expect(page).toHaveURL(/\/runbooks\/new$/);
});
