import { randomBytes } from "node:crypto";

import { hashApiToken } from "@/lib/auth/api-token";
import { loadNabSeries, shiftToEnd } from "../support/nab";

import { expect, login, test } from "./support/fixtures";

// The whole path on real telemetry. A NAB AWS CloudWatch series with a
// labelled anomaly window goes through the HTTP ingest API. The running
// worker then trains a model on it and opens an incident, and the incident
// page shows that incident with runbook suggestions.

const NAB_FILE = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const SERVICE = "nab-e2e";
const METRIC = "ec2_cpu_utilization";
const FIVE_MINUTES_MS = 5 * 60_000;

test.describe.configure({ timeout: 240_000 });

test("NAB series opens incident near labelled window", async ({
  page,
  request,
  db,
  state,
}) => {
  const token = `vgl_${randomBytes(32).toString("base64url")}`;
  await db.query(
    `INSERT INTO api_token (name, token_hash, prefix, scope)
     VALUES ('nab e2e', $1, $2, 'ingest')`,
    [hashApiToken(token), token.slice(0, 8)],
  );

  const series = shiftToEnd(
    loadNabSeries(NAB_FILE),
    new Date(Date.now() - FIVE_MINUTES_MS),
  );
  expect(series.windows.length).toBeGreaterThan(0);

  const response = await request.post("/api/v1/metrics", {
    headers: { authorization: `Bearer ${token}` },
    data: {
      service: SERVICE,
      series: [
        {
          name: METRIC,
          labels: { instance: "825cc2", source: "nab" },
          points: series.points.map((point) => [
            point.ts.toISOString(),
            point.value,
          ]),
        },
      ],
    },
  });
  expect(response.status(), await response.text()).toBe(200);
  const body = (await response.json()) as {
    accepted: { series: number; points: number };
  };
  expect(body.accepted.series).toBe(1);
  // NAB files may repeat a timestamp; the API keeps the first point of each.
  const distinct = new Set(series.points.map((point) => point.ts.getTime()));
  expect(body.accepted.points).toBe(distinct.size);

  // The worker picks the job up, trains, scores and opens the incident.
  let incident: { id: number; opened_at: Date } | undefined;
  await expect
    .poll(
      async () => {
        const { rows } = await db.query<{ id: number; opened_at: Date }>(
          `SELECT i.id, i.opened_at FROM incident i
             JOIN service s ON s.id = i.service_id
            WHERE s.slug = $1 AND i.source = 'detector'
            ORDER BY i.opened_at`,
          [SERVICE],
        );
        incident = rows.find((row) => nearAnyWindow(row.opened_at));
        return rows.length;
      },
      { timeout: 180_000, intervals: [2_000] },
    )
    .toBeGreaterThan(0);
  expect(
    incident,
    `no incident within one window length of ${JSON.stringify(series.windows)}`,
  ).toBeDefined();

  const { rows: models } = await db.query<{ backend: string }>(
    `SELECT m.backend FROM model_version m
       JOIN metric_series ms ON ms.id = m.series_id
       JOIN service s ON s.id = ms.service_id
      WHERE s.slug = $1 AND m.status = 'active'`,
    [SERVICE],
  );
  expect(models).toHaveLength(1);

  const { rows: suggestions } = await db.query<{ title: string }>(
    `SELECT r.title FROM incident_runbook ir
       JOIN runbook r ON r.id = ir.runbook_id
      WHERE ir.incident_id = $1 ORDER BY ir.score DESC`,
    [incident!.id],
  );
  expect(suggestions.length).toBeGreaterThan(0);

  await login(page, state.users.admin);
  await page.goto(`/incidents/${incident!.id}`);
  await expect(page.getByText(`Anomaly in ${METRIC}`).first()).toBeVisible();
  await expect(page.getByText(suggestions[0]!.title).first()).toBeVisible();

  function nearAnyWindow(openedAt: Date): boolean {
    return series.windows.some((window) => {
      const length = window.end.getTime() - window.start.getTime();
      return (
        openedAt.getTime() >= window.start.getTime() - length &&
        openedAt.getTime() <= window.end.getTime() + length
      );
    });
  }
});
