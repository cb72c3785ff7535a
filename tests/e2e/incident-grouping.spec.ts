import { generateApiToken, hashApiToken } from "@/lib/auth/api-token";

import { expect, login, test } from "./support/fixtures";

// The incident page of grouped incidents: an alert storm posted to the
// Alertmanager webhook shows one incident with its grouped alerts and the
// deployment made shortly before it, and a detector incident shows its
// correlated series. Each test removes what it created, because the other
// tests share the database.

const STORM_SERVICE = "e2e-storm";
const SERIES_SERVICE = "e2e-grouped-series";
const MINUTE = 60_000;

test("alert storm opens one grouped incident", async ({ page, state, db, request }) => {
  const token = generateApiToken();
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO api_token (name, scope, token_hash, prefix)
     VALUES ('e2e storm', 'ingest', $1, $2) RETURNING id`,
    [hashApiToken(token), token.slice(0, 10)],
  );
  const tokenId = inserted.rows[0]!.id;
  const onset = Date.now() - 5 * MINUTE;
  const alerts = Array.from({ length: 30 }, (_, instance) => ({
    status: "firing",
    labels: {
      alertname: "HighErrorRate",
      service: STORM_SERVICE,
      severity: "critical",
      instance: `web-${instance}`,
    },
    annotations: { summary: "5xx above 5 %" },
    startsAt: new Date(onset + instance * 1000).toISOString(),
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "http://127.0.0.1:9090/graph",
  }));

  try {
    const response = await request.post("/api/v1/alerts/alertmanager", {
      data: {
        version: "4",
        status: "firing",
        receiver: "vigil",
        groupKey: '{}:{alertname="HighErrorRate"}',
        truncatedAlerts: 0,
        alerts,
      },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status()).toBe(200);
    const result = await response.json();
    expect(result.opened).toBe(1);
    expect(result.joined).toBe(29);
    const incidentId: number = result.alerts[0].incidentId;

    // A deployment reported after the incident opened still shows as a
    // suspect on the page, which computes the list when it renders.
    await db.query(
      `INSERT INTO deployment (service_id, version, status, commit_sha, deployed_at)
       SELECT id, 'v2.4.1', 'success', '9f8e7d6c5b4a', $2 FROM service WHERE slug = $1`,
      [STORM_SERVICE, new Date(onset - 7 * MINUTE)],
    );

    await login(page, state.users.responder);
    await page.goto(`/incidents/${incidentId}`);

    await expect(
      page.getByRole("heading", { name: "Grouped alerts (30)" }),
    ).toBeVisible();
    const grouped = page.getByTestId("incident-grouped-alerts");
    await expect(grouped).toContainText("30 of 30 firing");
    await expect(grouped).toContainText("instance=web-0");
    await expect(grouped.getByText("firing", { exact: true })).toHaveCount(30);
    // Ten rows show at first, and "Show 20 more" lists the rest.
    await expect(grouped.getByText("instance=web-9", { exact: true })).toBeVisible();
    await expect(grouped.getByText("instance=web-29", { exact: true })).toBeHidden();
    await grouped.getByText("Show 20 more").click();
    await expect(grouped.getByText("instance=web-29", { exact: true })).toBeVisible();

    const suspects = page.getByTestId("incident-suspects");
    await expect(suspects).toContainText("v2.4.1");
    await expect(suspects).toContainText("7 minutes before onset");
    await expect(suspects).toContainText("9f8e7d6");

    await expect(page.getByTestId("incident-timeline")).toContainText(
      "29 more alertmanager alerts of the same group joined",
    );
  } finally {
    await db.query("DELETE FROM service WHERE slug = $1", [STORM_SERVICE]);
    await db.query("DELETE FROM api_token WHERE id = $1", [tokenId]);
  }
});

test("detector incident lists correlated series", async ({ page, state, db }) => {
  const onset = new Date(Date.now() - 20 * MINUTE);
  const service = await db.query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, 'Grouped series') RETURNING id",
    [SERIES_SERVICE],
  );
  const serviceId = service.rows[0]!.id;
  try {
    const series = await db.query<{ id: number }>(
      `INSERT INTO metric_series (service_id, name, labels, labels_key)
       VALUES ($1, 'cpu_utilization', '{"host":"db-1"}', '{"host":"db-1"}'),
              ($1, 'p99_latency_ms', '{}', '{}')
       RETURNING id`,
      [serviceId],
    );
    const [cpuId, latencyId] = series.rows.map((row) => row.id);
    const incident = await db.query<{ id: number }>(
      `INSERT INTO incident (service_id, series_id, title, status, severity,
                             source, dedup_key, peak_score, opened_at)
       VALUES ($1, $2, 'Anomaly in cpu_utilization on Grouped series',
               'triggered', 'sev2', 'detector', $3, 2.7, $4)
       RETURNING id`,
      [serviceId, cpuId, `detector:${cpuId}:${onset.getTime()}`, onset],
    );
    const incidentId = incident.rows[0]!.id;
    await db.query(
      `INSERT INTO incident_series
         (incident_id, series_id, onset_at, peak_score, peak_at, recovered_at)
       VALUES ($1, $2, $3, 2.7, $3, $4), ($1, $5, $6, 1.8, $6, NULL)`,
      [
        incidentId,
        cpuId,
        onset,
        new Date(onset.getTime() + 10 * MINUTE),
        latencyId,
        new Date(onset.getTime() + 3 * MINUTE),
      ],
    );

    await login(page, state.users.viewer);
    await page.goto(`/incidents/${incidentId}`);

    await expect(
      page.getByRole("heading", { name: "Correlated series (2)" }),
    ).toBeVisible();
    const card = page.getByTestId("incident-correlated-series");
    await expect(card.getByRole("link", { name: "cpu_utilization" })).toHaveAttribute(
      "href",
      `/models/${cpuId}`,
    );
    await expect(card.getByRole("link", { name: "p99_latency_ms" })).toHaveAttribute(
      "href",
      `/models/${latencyId}`,
    );
    await expect(card).toContainText("host=db-1");
    await expect(card).toContainText("back to normal");
    await expect(card).toContainText("anomalous");
    await expect(page.getByTestId("incident-suspects")).toContainText(
      "No deployment of Grouped series in the 60 minutes before the onset.",
    );
  } finally {
    await db.query("DELETE FROM service WHERE id = $1", [serviceId]);
  }
});
