import pg from "pg";

import { expect, login, test } from "./support/fixtures";
import { readState } from "./support/state";

// The /oncall page against the running server. An admin creates a schedule
// and an override, and the page shows who is on call now, in the schedule's
// time zone. A viewer reads the page without the forms. An escalation
// policy makes the service page show who is on call, and a maintenance
// window is created, ended and listed under past windows. The test uses a
// service of its own, so that its policy pages nobody in other tests.

test.describe.configure({ mode: "serial" });

const SERVICE = "oncall-e2e";
// A zone without daylight saving and far from UTC, so that a time shown in
// the browser's zone would not match.
const ZONE = "Asia/Kolkata";

/** Formats like components/oncall-zoned-time.tsx. */
function zoned(value: Date): string {
  const text = new Intl.DateTimeFormat("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: ZONE,
  }).format(value);
  return `${text} ${ZONE}`;
}

test("admin creates a schedule and sees who is on call", async ({ page, state, db }) => {
  await db.query(
    "INSERT INTO service (slug, name) VALUES ($1, 'On-call e2e') ON CONFLICT (slug) DO NOTHING",
    [SERVICE],
  );
  await login(page, state.users.admin);
  await page.getByRole("link", { name: "On call" }).click();
  await expect(page.getByRole("heading", { name: "On call", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Create schedule" });
  await form.getByLabel("Schedule name").fill("E2E primary");
  await form.getByLabel("Time zone (IANA)").fill(ZONE);
  await form.getByLabel("Rotation name").fill("daily");
  await form.getByLabel("Turn length").fill("1");
  await form.getByLabel("Turn unit").selectOption("days");
  await form.getByLabel("Handoff time (in the schedule's time zone)").fill("00:00");
  await form.getByLabel("First turn on").fill("2026-01-01");
  await form.getByLabel("Add member").selectOption({ label: state.users.responder.name });
  await form.getByRole("button", { name: "Add to rotation" }).click();
  await expect(form.getByTestId("member-name")).toHaveText([`1. ${state.users.responder.name}`]);
  await form.getByRole("button", { name: "Create schedule" }).click();
  await expect(form.getByRole("status")).toHaveText("Schedule E2E primary created.");
  // The picker empties for the next schedule.
  await expect(form.getByTestId("member-order")).toHaveCount(0);

  const card = page.getByTestId("schedule-card").filter({ hasText: "E2E primary" });
  await expect(card.getByTestId("on-call-now")).toContainText(state.users.responder.name);
  // One member: every handoff keeps the responder, so none is listed.
  await expect(card.getByTestId("next-handoff")).toHaveText("None scheduled");

  // The admin covers the next hour with an override.
  const pad = (value: number) => String(value).padStart(2, "0");
  const local = (date: Date) =>
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const overrideForm = card.getByRole("form", { name: "Add override to E2E primary" });
  await overrideForm.getByLabel("Who covers").selectOption({ label: state.users.admin.name });
  await overrideForm.getByLabel("From (your browser's time zone)").fill(local(new Date(Date.now() - 2 * 60_000)));
  await overrideForm.getByLabel("Until (your browser's time zone)").fill(local(new Date(Date.now() + 60 * 60_000)));
  await overrideForm.getByLabel("Reason (optional)").fill("Covers a dentist visit");
  await overrideForm.getByRole("button", { name: "Add override" }).click();
  await expect(overrideForm.getByRole("status")).toHaveText("Override added.");
  await expect(card.getByTestId("on-call-now")).toContainText(state.users.admin.name);
  await expect(card.getByTestId("on-call-now")).toContainText("override");
  await expect(card.getByTestId("next-handoff")).toContainText(state.users.responder.name);
  await expect(card.getByTestId("override-list")).toContainText(`${state.users.admin.name} covers`);
  await expect(card.getByTestId("override-list")).toContainText("(Covers a dentist visit)");

  // The override's end and the handoff show in the schedule's zone, named.
  const { rows: overrides } = await db.query<{ ends_at: Date }>(
    "SELECT o.ends_at FROM oncall_override o JOIN oncall_schedule s ON s.id = o.schedule_id WHERE s.name = 'E2E primary'",
  );
  await expect(card.getByTestId("on-call-now")).toContainText(`until ${zoned(overrides[0]!.ends_at)}`);
  await expect(card.getByTestId("next-handoff")).toContainText(
    `${zoned(overrides[0]!.ends_at)} to ${state.users.responder.name}`,
  );

  // A second rotation on top, then removed again.
  await card.getByText("Add a rotation on top").click();
  const rotationForm = card.getByRole("form", { name: "Add rotation to E2E primary" });
  await rotationForm.getByLabel("Rotation name").fill("weekend cover");
  await rotationForm.getByLabel("Turn unit").selectOption("days");
  await rotationForm.getByLabel("First turn on").fill("2099-01-01");
  // Turn order follows the picker's list, not the order of the users: the
  // responder is added second and moved up to take the first turn. Viewers
  // cannot be on call, so the picker does not offer them.
  const addMember = async (name: string) => {
    await rotationForm.getByLabel("Add member").selectOption({ label: name });
    await rotationForm.getByRole("button", { name: "Add to rotation" }).click();
  };
  await expect(rotationForm.getByLabel("Add member").locator("option", { hasText: state.users.viewer.name })).toHaveCount(0);
  await addMember(state.users.admin.name);
  await addMember(state.users.responder.name);
  await rotationForm.getByRole("button", { name: `Move ${state.users.responder.name} up` }).click();
  await rotationForm.getByRole("button", { name: `Remove ${state.users.admin.name}` }).click();
  await expect(rotationForm.getByTestId("member-name")).toHaveText([`1. ${state.users.responder.name}`]);
  await addMember(state.users.admin.name);
  await expect(rotationForm.getByTestId("member-name")).toHaveText([
    `1. ${state.users.responder.name}`,
    `2. ${state.users.admin.name}`,
  ]);
  await rotationForm.getByRole("button", { name: "Add rotation" }).click();
  await expect(rotationForm.getByRole("status")).toHaveText("Rotation weekend cover added.");
  await expect(card.getByTestId("rotation-list")).toContainText(
    `weekend cover: ${state.users.responder.name} → ${state.users.admin.name}`,
  );

  page.once("dialog", (dialog) => void dialog.accept());
  await card.getByRole("button", { name: "Remove rotation weekend cover" }).click();
  await expect(card.getByTestId("rotation-list")).not.toContainText("weekend cover");
  await expect(card.getByTestId("on-call-now")).toContainText(state.users.admin.name);
});

test("admin adds a policy and the service shows it", async ({ page, state }) => {
  await login(page, state.users.admin);
  await page.goto("/oncall");

  const form = page.getByRole("form", { name: "Create escalation policy" });
  await form.getByLabel("Policy name").fill("E2E escalation");
  await form.getByLabel("Service").selectOption(SERVICE);
  const targets = form.getByLabel("Level 1 targets (hold Ctrl or Cmd to pick several)", { exact: true });
  await targets.selectOption({ label: "E2E primary" });

  // A single level with no repeat has no delay input. A second level gives
  // level 1 one.
  await expect(form.getByText("Last level: nothing follows it unless the policy repeats.")).toBeVisible();
  await form.getByRole("button", { name: "Add level" }).click();
  await expect(form.getByLabel("Level 1: minutes before level 2", { exact: true })).toHaveValue("5");
  await form.getByRole("button", { name: "Remove level 2" }).click();
  await form.getByLabel("Repeat all levels (times)", { exact: true }).fill("1");
  await expect(form.getByLabel("Level 1: minutes before repeating from level 1", { exact: true })).toBeVisible();
  await form.getByLabel("Repeat all levels (times)", { exact: true }).fill("0");

  // No paging channel is set and the policy names no email channel, so the
  // schedule's people could not be paged.
  await expect(form.getByTestId("policy-email-warning")).toContainText("so their pages cannot be sent");
  await form.getByRole("button", { name: "Create policy" }).click();
  await expect(form.getByRole("status")).toHaveText("Policy E2E escalation created.");
  await expect(form.getByTestId("policy-saved-warnings")).toContainText(
    "level 1 targets people, but the policy has no pageChannelId and no paging channel is set",
  );

  const policy = page.getByTestId("policy-card").filter({ hasText: "E2E escalation" });
  await expect(policy).toContainText("Level 1: on call in E2E primary");
  await expect(policy).not.toContainText("after");

  // The paging channel has a form of its own, outside the policy form.
  await expect(page.getByRole("form", { name: "Paging channel" })).toBeVisible();
  await expect(form.getByRole("button", { name: "Save" })).toHaveCount(0);
  const row = page.getByTestId("service-on-call").locator("tr", { hasText: "On-call e2e" });
  await expect(row).toContainText(`${state.users.admin.name} (E2E primary)`);

  await page.goto(`/services/${SERVICE}`);
  await expect(page.getByTestId("service-on-call-card")).toContainText(
    `On call now: ${state.users.admin.name} (E2E primary)`,
  );
});

test("incident page shows its escalation", async ({ page, state, db }) => {
  // An incident whose level 1 was paged, as the worker leaves it; deleted
  // at the end so that other tests do not count it.
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO incident (service_id, title, source, dedup_key, opened_at)
     SELECT id, 'E2E escalation incident', 'manual', 'e2e:oncall-escalation', now() FROM service WHERE slug = $1
     RETURNING id`,
    [SERVICE],
  );
  const incidentId = rows[0]!.id;
  try {
    await db.query(
      `INSERT INTO incident_escalation (incident_id, policy_id, next_level, next_at)
       SELECT $1, id, 2, now() + interval '5 minutes' FROM escalation_policy WHERE name = 'E2E escalation'`,
      [incidentId],
    );
    await db.query(
      `INSERT INTO escalation_step (incident_id, cycle, level, fired_at, targets)
       VALUES ($1, 1, 1, now(), $2::jsonb)`,
      [incidentId, JSON.stringify([{ kind: "person", userId: 1, name: state.users.admin.name, email: "", via: "E2E primary" }])],
    );
    await login(page, state.users.viewer);
    await page.goto(`/incidents/${incidentId}`);
    const card = page.getByTestId("incident-escalation");
    await expect(card).toContainText("Policy E2E escalation");
    await expect(card).toContainText("Level 2 is notified");
    await expect(card).toContainText(`Level 1, `);
    await expect(card).toContainText(`${state.users.admin.name} (E2E primary)`);

    await page.goto("/oncall");
    await expect(page.getByTestId("active-escalations")).toContainText("E2E escalation incident");
  } finally {
    await db.query("DELETE FROM incident WHERE id = $1", [incidentId]);
  }
});

test("viewer reads the page without forms", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.getByRole("link", { name: "On call" }).click();
  const card = page.getByTestId("schedule-card").filter({ hasText: "E2E primary" });
  await expect(card.getByTestId("on-call-now")).toContainText(state.users.admin.name);
  await expect(page.getByTestId("policy-card").filter({ hasText: "E2E escalation" })).toBeVisible();
  await expect(page.getByRole("form", { name: "Create schedule" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Delete schedule" })).toHaveCount(0);
});

test("admin plans and ends maintenance", async ({ page, state, db }) => {
  await login(page, state.users.admin);
  await page.goto("/oncall");

  const form = page.getByRole("form", { name: "Create maintenance window" });
  await form.getByLabel("Service").selectOption(SERVICE);
  await form.getByLabel("Reason").fill("DB upgrade");
  const until = new Date(Date.now() + 2 * 3_600_000);
  const pad = (value: number) => String(value).padStart(2, "0");
  await form
    .getByLabel("Until")
    .fill(`${until.getFullYear()}-${pad(until.getMonth() + 1)}-${pad(until.getDate())}T${pad(until.getHours())}:${pad(until.getMinutes())}`);
  await form.getByRole("button", { name: "Create window" }).click();
  await expect(form.getByRole("status")).toHaveText("Maintenance window created.");

  const windows = page.getByTestId("window-list");
  await expect(windows).toContainText("DB upgrade");
  await expect(windows).toContainText("active");

  page.once("dialog", (dialog) => void dialog.accept());
  await windows.getByRole("button", { name: "End now" }).click();
  await expect(page.getByText("None planned or active.")).toBeVisible();
  const { rows } = await db.query<{ ended_at: Date | null }>(
    "SELECT ended_at FROM maintenance_window WHERE reason = 'DB upgrade'",
  );
  expect(rows[0]?.ended_at).not.toBeNull();

  const past = page.getByTestId("past-window-list").locator("li", { hasText: "DB upgrade" });
  await expect(past).toContainText("maintenance");
  await expect(past).toContainText("On-call e2e: DB upgrade");
  await expect(past).toContainText("(ended early)");
  await expect(past).toContainText(`by ${state.users.admin.name}`);

});

// Removes the service (with its policy and windows) and the schedule, so
// that later tests see the seeded data only.
test.afterAll(async () => {
  const client = new pg.Client({ connectionString: readState().databaseUrl });
  await client.connect();
  try {
    await client.query("DELETE FROM service WHERE slug = $1", [SERVICE]);
    await client.query("DELETE FROM oncall_schedule WHERE name = 'E2E primary'");
  } finally {
    await client.end();
  }
});
