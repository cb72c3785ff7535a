import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// Feedback on a detector incident in the browser: a responder marks it as a
// false alarm, then changes the verdict, and both appear in the timeline and
// in the feedback panel. The incident is seeded here on a series of its own,
// with scored points, so that the threshold change touches no other test.

const STEP_MS = 5 * 60 * 1000;

/** Seeds a resolved detector incident on a new series; returns its id. */
async function seedDetectorIncident(db: pg.Client, slug: string): Promise<number> {
  const start = Math.floor(Date.now() / STEP_MS) * STEP_MS - 40 * STEP_MS;
  const at = (step: number) => new Date(start + step * STEP_MS);

  const service = await db.query<{ id: number }>(
    "INSERT INTO service (slug, name) VALUES ($1, $2) RETURNING id",
    [slug, `Feedback ${slug}`],
  );
  const serviceId = service.rows[0]!.id;
  const series = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key, scored_until, last_point_at)
     VALUES ($1, 'queue_depth', '{}', '{}', $2, $2) RETURNING id`,
    [serviceId, at(29)],
  );
  const seriesId = series.rows[0]!.id;

  // A stored model row for the scores to refer to; the worker never loads
  // it, because every point is already scored.
  const model = await db.query<{ id: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms)
     VALUES ($1, 1, 'active', 'dense-forecaster', 'cpu', '0.1.0', 12,
             $2, $2, 500, '{}', '[]', '\\x00', '{}', '{}', 1, 10)
     RETURNING id`,
    [seriesId, at(0)],
  );

  const steps = Array.from({ length: 30 }, (_, step) => step);
  const values = steps.map((step) => (step >= 10 && step <= 12 ? 95 : 20));
  const likelihoods = steps.map((step) =>
    step >= 10 && step <= 12 ? 0.95 + step / 1000 : 0.5,
  );
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)`,
    [seriesId, steps.map(at), values],
  );
  await db.query(
    `INSERT INTO anomaly_score
       (series_id, ts, model_version_id, error, score, is_anomaly, likelihood,
        deviation, expected_low, expected_high)
     SELECT $1, p.ts, $2, 0.2, p.score, p.likelihood >= 0.9, p.likelihood, 3,
            15, 25
       FROM unnest($3::timestamptz[], $4::float8[], $5::float8[])
            AS p(ts, likelihood, score)`,
    [
      seriesId,
      model.rows[0]!.id,
      steps.map(at),
      likelihoods,
      likelihoods.map((likelihood) => (likelihood > 0.9 ? 2.4 : 0.4)),
    ],
  );

  const incident = await db.query<{ id: number }>(
    `INSERT INTO incident
       (service_id, series_id, title, status, severity, source, dedup_key,
        summary, peak_score, opened_at, resolved_at)
     VALUES ($1, $2, $3, 'resolved', 'sev2', 'detector', $4, $5, 2.4, $6, $7)
     RETURNING id`,
    [
      serviceId,
      seriesId,
      `Anomaly in queue_depth on Feedback ${slug}`,
      `e2e:feedback:${slug}`,
      "queue_depth turned anomalous.",
      at(10),
      at(20),
    ],
  );
  const incidentId = incident.rows[0]!.id;
  await db.query(
    `INSERT INTO incident_event (incident_id, kind, actor_type, actor_name, message, created_at)
     VALUES ($1, 'opened', 'worker', 'anomaly detector', 'Opened: queue_depth turned anomalous', $2)`,
    [incidentId, at(10)],
  );
  return incidentId;
}

test("responder marks feedback on an incident", async ({ page, state, db }) => {
  const incidentId = await seedDetectorIncident(db, `fb-${Date.now()}`);
  const responder = state.users.responder;
  await login(page, responder);
  await page.goto(`/incidents/${incidentId}`);

  const panel = page.getByTestId("incident-feedback");
  await expect(panel.getByTestId("feedback-current")).toHaveText("No verdict yet.");
  const threshold = panel.getByTestId("alarm-threshold");
  await expect(threshold).toHaveText(/^0\.\d{4} \(default\)$/);
  const thresholdName = panel.getByText("Alarm threshold (likelihood) of the series:");
  await expect(thresholdName).toHaveAttribute("title", /anomaly likelihood/);
  const defaultText = await threshold.textContent();
  const defaultThreshold = Number(defaultText!.split(" ")[0]);
  // The seeded peak (0.962) must raise an alarm at the default threshold.
  expect(defaultThreshold).toBeLessThan(0.96);
  await expect(
    page.getByTestId("onset-point").getByTestId("point-likelihood"),
  ).toHaveText("0.9600");
  await expect(page.getByTestId("likelihood-summary")).toContainText(
    "Highest likelihood 0.9620",
  );

  const realButton = panel.getByRole("button", { name: "Real anomaly" });
  const falseAlarmButton = panel.getByRole("button", { name: "False alarm" });
  await expect(realButton).toHaveAttribute("aria-pressed", "false");
  await expect(falseAlarmButton).toHaveAttribute("aria-pressed", "false");
  await panel.getByLabel("Comment (optional)").fill("Nightly reindex job");
  await falseAlarmButton.click();

  await expect(panel.getByTestId("feedback-result")).toContainText(
    "Marked as false alarm",
  );
  await expect(panel.getByTestId("feedback-verdict")).toHaveText("False alarm");
  await expect(falseAlarmButton).toHaveAttribute("aria-pressed", "true");
  await expect(realButton).toHaveAttribute("aria-pressed", "false");
  await expect(panel.getByTestId("feedback-current")).toContainText(
    `by ${responder.name}`,
  );
  await expect(panel.getByTestId("feedback-current")).toContainText(
    "Nightly reindex job",
  );
  await expect(threshold).toContainText("(set by feedback)");
  const raised = Number((await threshold.textContent())!.split(" ")[0]);
  expect(raised).toBeGreaterThan(0.962);
  await expect(panel.getByTestId("series-precision")).toContainText(
    "0 of 1 judged incidents real",
  );
  await expect(page.getByTestId("likelihood-summary")).toContainText(
    "would no longer raise an alarm",
  );
  const timeline = page.getByTestId("incident-timeline");
  await expect(timeline).toContainText(
    `${responder.name} marked this incident as a false alarm.`,
  );
  await expect(timeline).toContainText("Comment: Nightly reindex job");

  await realButton.click();

  await expect(panel.getByTestId("feedback-verdict")).toHaveText("Real anomaly");
  await expect(realButton).toHaveAttribute("aria-pressed", "true");
  await expect(falseAlarmButton).toHaveAttribute("aria-pressed", "false");
  await expect(threshold).toHaveText(defaultText!);
  await expect(panel.getByTestId("series-precision")).toContainText(
    "1 of 1 judged incidents real",
  );
  await expect(timeline).toContainText(
    `${responder.name} changed the verdict from a false alarm to a real anomaly.`,
  );
  await expect(panel.getByText("Earlier verdicts (1)")).toBeVisible();

  await page.reload();
  await expect(panel.getByTestId("feedback-verdict")).toHaveText("Real anomaly");
  const { rows } = await db.query<{ verdict: string; actor_name: string }>(
    "SELECT verdict, actor_name FROM incident_feedback WHERE incident_id = $1 ORDER BY id",
    [incidentId],
  );
  expect(rows).toEqual([
    { verdict: "false_alarm", actor_name: responder.name },
    { verdict: "real", actor_name: responder.name },
  ]);

  // The API takes the same session. The newest verdict is already "real"
  // without a comment, so a repeat records nothing.
  const repeat = await page.request.post(`/api/v1/incidents/${incidentId}/feedback`, {
    data: { verdict: "real" },
  });
  expect(repeat.status()).toBe(200);
  expect((await repeat.json()).outcome).toBe("unchanged");
});

test("viewer cannot give feedback", async ({ page, state, db }) => {
  const incidentId = await seedDetectorIncident(db, `fb-viewer-${Date.now()}`);
  await login(page, state.users.viewer);
  await page.goto(`/incidents/${incidentId}`);

  await expect(page.getByTestId("feedback-read-only")).toBeVisible();
  await expect(page.getByRole("button", { name: "False alarm" })).toHaveCount(0);

  const response = await page.request.post(`/api/v1/incidents/${incidentId}/feedback`, {
    data: { verdict: "false_alarm" },
  });
  expect(response.status()).toBe(403);
  expect((await response.json()).error.message).toContain(
    "your role (viewer) cannot give feedback",
  );
  const { rows } = await db.query(
    "SELECT count(*)::int AS count FROM incident_feedback WHERE incident_id = $1",
    [incidentId],
  );
  expect(rows[0].count).toBe(0);
});
