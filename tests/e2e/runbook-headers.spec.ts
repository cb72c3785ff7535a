import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// Step header values on the runbook page: viewers and responders see the
// header names with "(hidden)" in the current version and in version diffs,
// and admins, who edit runbooks, see the values.

/** Seeds a runbook whose two versions send different Authorization headers. */
async function seedRunbook(db: pg.Client, tag: string): Promise<string> {
  const slug = `headers-${tag}`;
  const steps = (version: number) =>
    JSON.stringify([
      {
        id: "restart",
        title: "Restart the pods",
        method: "POST",
        url: "http://127.0.0.1:3461/restart",
        headers: { Authorization: `Bearer e2e-s3cret-v${version}`, "X-Team": "payments" },
        timeoutSeconds: 10,
        retries: 2,
      },
    ]);
  const body = (version: number) => `# Restart\n\nVersion ${version} of the procedure.`;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO runbook (slug, title, body, steps, current_version)
     VALUES ($1, 'Restart pods', $2, $3::jsonb, 2) RETURNING id`,
    [slug, body(2), steps(2)],
  );
  for (const version of [1, 2]) {
    await db.query(
      `INSERT INTO runbook_version (runbook_id, version, title, body, steps, author_type, author_name)
       VALUES ($1, $2, 'Restart pods', $3, $4::jsonb, 'system', 'test')`,
      [rows[0]!.id, version, body(version), steps(version)],
    );
  }
  return slug;
}

for (const role of ["viewer", "responder"] as const) {
  test(`${role} sees step header values hidden`, async ({ page, state, db }) => {
    const slug = await seedRunbook(db, `${role}${Date.now()}`);
    await login(page, state.users[role]);
    await page.goto(`/runbooks/${slug}?version=2`);

    const diff = page.getByTestId("runbook-diff");
    await expect(diff).toContainText("+ Version 2 of the procedure.");
    await expect(diff).toContainText("Authorization: (hidden)");
    await expect(diff).toContainText("X-Team: (hidden)");
    expect(await page.content()).not.toContain("e2e-s3cret");
  });
}

test("admin sees step header values", async ({ page, state, db }) => {
  const slug = await seedRunbook(db, `admin${Date.now()}`);
  await login(page, state.users.admin);
  await page.goto(`/runbooks/${slug}?version=2`);

  const diff = page.getByTestId("runbook-diff");
  await expect(diff).toContainText("Authorization: Bearer e2e-s3cret-v1");
  await expect(diff).toContainText("Authorization: Bearer e2e-s3cret-v2");
});
