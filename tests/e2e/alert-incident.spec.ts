import { readFileSync } from "node:fs";
import path from "node:path";

import { generateApiToken, hashApiToken } from "@/lib/auth/api-token";

import { expect, login, test } from "./support/fixtures";

// An incident opened by an Alertmanager-style webhook shows the alert itself
// (annotations as Markdown, labels, values, a link to its source) instead of
// the anomaly detector's chart and explanation. The test removes what it
// created, because the other tests share the database.

const FIXTURE = path.join(
  import.meta.dirname,
  "../fixtures/alerts/grafana-docs-firing-two-alerts-values.json",
);
const SERVICE = "e2e-alerts";

test("alert incident shows the alert", async ({ page, state, db, request }) => {
  const token = generateApiToken();
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO api_token (name, scope, token_hash, prefix)
     VALUES ('e2e alerts', 'ingest', $1, $2) RETURNING id`,
    [hashApiToken(token), token.slice(0, 10)],
  );
  const tokenId = inserted.rows[0]!.id;

  const body = JSON.parse(readFileSync(FIXTURE, "utf8"));
  const startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
  body.alerts = [body.alerts[0]];
  body.alerts[0].startsAt = startsAt;
  body.alerts[0].annotations.summary = "Memory above **90%** in zone us-1";

  try {
    const response = await request.post(
      `/api/v1/alerts/grafana?service=${SERVICE}`,
      { data: body, headers: { authorization: `Bearer ${token}` } },
    );
    expect(response.status()).toBe(200);
    const result = await response.json();
    expect(result.alerts[0].outcome).toBe("opened");
    const incidentId: number = result.alerts[0].incidentId;

    await login(page, state.users.admin);
    await page.goto(`/incidents/${incidentId}`);

    const details = page.getByTestId("alert-details");
    await expect(details).toBeVisible();
    // The summary annotation is rendered as Markdown, not shown raw.
    await expect(details.locator("strong", { hasText: "90%" })).toBeVisible();
    await expect(details).not.toContainText("**90%**");
    await expect(page.getByTestId("alert-labels")).toContainText(
      "alertname=High memory usage",
    );
    await expect(details).toContainText("B = 44.23943737541908");
    await expect(
      details.getByRole("link", { name: "Open in the alert source" }),
    ).toHaveAttribute("href", "https://grafana-a.example/alerting/1afz29v7z/edit");
    await expect(page.getByText("Why this incident opened")).toHaveCount(0);
    await expect(page.getByTestId("incident-explanation")).toHaveCount(0);
  } finally {
    await db.query("DELETE FROM service WHERE slug = $1", [SERVICE]);
    await db.query("DELETE FROM api_token WHERE id = $1", [tokenId]);
  }
});
