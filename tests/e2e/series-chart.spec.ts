import type { Page } from "@playwright/test";
import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// The series charts of the service, model and incident pages on a service
// of their own: the expected band, anomalous points, deployment markers and
// incident spans. The series' scored_until is its newest point and its
// model version is retired, so the worker neither scores nor trains it.

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const STEP_MS = 5 * MINUTE_MS;
const SLUG = "chart-e2e";
/** Offset of the spike before now, in ms. */
const SPIKE_AGO_MS = 6 * HOUR_MS;

type Seeded = {
  seriesId: number;
  incidents: { spike: number; open: number; old: number };
};

async function seedChartService(db: pg.Client, now: number): Promise<Seeded> {
  const at = (agoMs: number) => new Date(now - agoMs);
  const service = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name, description)
     VALUES ($1, 'Chart service', 'Service of the series chart tests.')
     RETURNING id`,
    [SLUG],
  );
  const serviceId = service.rows[0]!.id;

  // 30 hours of 5-minute points: 100 plus a slow wave, with one spike.
  const times: Date[] = [];
  const values: number[] = [];
  for (let ago = 30 * HOUR_MS; ago > 0; ago -= STEP_MS) {
    times.push(at(ago));
    values.push(
      ago === SPIKE_AGO_MS ? 300 : 100 + 10 * Math.sin((ago / HOUR_MS) * 0.7),
    );
  }
  const series = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key,
       last_point_at, scored_until)
     VALUES ($1, 'latency_ms', '{}', '', $2, $2) RETURNING id`,
    [serviceId, times.at(-1)],
  );
  const seriesId = series.rows[0]!.id;
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, t, v FROM unnest($2::timestamptz[], $3::float8[]) AS p(t, v)`,
    [seriesId, times, values],
  );

  const model = await db.query<{ id: number }>(
    `INSERT INTO model_version
       (series_id, version, status, kind, backend, code_version, window_size,
        trained_from, trained_to, point_count, topology, weight_specs,
        weights, normalization, metrics, threshold, training_ms)
     VALUES ($1, 1, 'retired', 'dense-forecaster', 'cpu', '0.1.0', 12,
             $2, $3, 200, '{}', '[]', '\\x00', '{}', '{}', 1, 10)
     RETURNING id`,
    [seriesId, times[0], times[199]],
  );
  // Expected range 80 to 120 everywhere, so only the spike leaves it.
  await db.query(
    `INSERT INTO anomaly_score (series_id, ts, model_version_id, error,
       score, is_anomaly, likelihood, expected_low, expected_high)
     SELECT $1, t, $2, CASE WHEN v > 200 THEN 5 ELSE 0.3 END,
            CASE WHEN v > 200 THEN 5 ELSE 0.3 END, v > 200,
            CASE WHEN v > 200 THEN 0.9999 ELSE 0.4 END, 80, 120
       FROM unnest($3::timestamptz[], $4::float8[]) AS p(t, v)`,
    [seriesId, model.rows[0]!.id, times, values],
  );

  // At ?range=24h, 10 h and 10 h minus 5 min share a marker (a slot is
  // 24 h / 120 = 12 min), and 30 h is outside the range.
  const deployments: [string, number, string][] = [
    ["v1.0.0", 30 * HOUR_MS, "success"],
    ["v1.1.0", 20 * HOUR_MS, "success"],
    ["v1.2.0", 10 * HOUR_MS, "success"],
    ["v1.2.1", 10 * HOUR_MS - 5 * MINUTE_MS, "success"],
    ["v1.3.0", 7 * HOUR_MS, "success"],
    ["v1.4.0", 2 * HOUR_MS, "failure"],
  ];
  for (const [version, ago, status] of deployments) {
    await db.query(
      `INSERT INTO deployment (service_id, version, status, deployed_at)
       VALUES ($1, $2, $3, $4)`,
      [serviceId, version, status, at(ago)],
    );
  }

  const addIncident = async (
    title: string,
    severity: string,
    openedAgo: number,
    resolvedAgo: number | null,
  ) => {
    const { rows } = await db.query<{ id: number }>(
      `INSERT INTO incident (service_id, series_id, title, status, severity,
         source, dedup_key, opened_at, resolved_at)
       VALUES ($1, $2, $3, $4, $5, 'manual', $6, $7, $8) RETURNING id`,
      [
        serviceId,
        seriesId,
        title,
        resolvedAgo === null ? "triggered" : "resolved",
        severity,
        `chart-e2e:${title}`,
        at(openedAgo),
        resolvedAgo === null ? null : at(resolvedAgo),
      ],
    );
    return rows[0]!.id;
  };
  return {
    seriesId,
    incidents: {
      spike: await addIncident("Chart latency spike", "sev1", SPIKE_AGO_MS, SPIKE_AGO_MS - 35 * MINUTE_MS),
      open: await addIncident("Chart latency drift", "sev3", HOUR_MS, null),
      old: await addIncident("Chart old outage", "sev2", 29 * HOUR_MS, 28 * HOUR_MS),
    },
  };
}

async function removeChartService(db: pg.Client): Promise<void> {
  await db.query("DELETE FROM service WHERE slug = $1", [SLUG]);
}

/** Checks the band and the red anomaly dot of the first series chart. */
async function expectBandAndAnomaly(page: Page): Promise<void> {
  const chart = page.getByTestId("series-chart").first();
  await expect(chart.locator(".series-band .recharts-area-area")).toHaveCount(1);
  await expect(chart.locator(".series-anomalies .recharts-dot")).toHaveCount(1);
}

function markerTitles(page: Page) {
  return page
    .getByTestId("deployment-marker")
    .locator("title")
    .allTextContents();
}

test.describe("series chart overlays", () => {
  let seeded: Seeded;

  test.beforeAll(async ({ db }) => {
    await removeChartService(db);
    seeded = await seedChartService(db, Date.now());
  });

  test.afterAll(async ({ db }) => {
    await removeChartService(db);
  });

  test("service page draws band, markers, spans", async ({ page, state }) => {
    await login(page, state.users.viewer);
    await page.goto(`/services/${SLUG}?range=24h`);
    await expectBandAndAnomaly(page);

    const markers = page.getByTestId("deployment-marker");
    await expect(markers).toHaveCount(4);
    await expect(markers.nth(0)).toHaveAttribute("data-versions", "v1.1.0");
    await expect(markers.nth(1)).toHaveAttribute("data-versions", "v1.2.0 v1.2.1");
    await expect(markers.nth(1)).toHaveAttribute("data-count", "2");
    await expect(markers.nth(2)).toHaveAttribute("data-versions", "v1.3.0");
    await expect(markers.nth(3)).toHaveAttribute("data-versions", "v1.4.0");
    const titles = await markerTitles(page);
    expect(titles[0]).toMatch(/^Deployment v1\.1\.0 \(production\) at /);
    expect(titles[1]).toMatch(/^2 deployments\n/);
    expect(titles[3]).toContain("v1.4.0 (production, failure)");

    const spans = page.getByTestId("incident-span");
    await expect(spans).toHaveCount(2);
    await expect(spans.nth(0)).toHaveAttribute("data-severity", "sev1");
    await expect(spans.nth(0)).toHaveAttribute(
      "href",
      `/incidents/${seeded.incidents.spike}`,
    );
    await expect(spans.nth(0).locator("title")).toContainText(
      `#${seeded.incidents.spike} SEV1 Chart latency spike, resolved`,
    );
    await expect(spans.nth(1)).toHaveAttribute("data-severity", "sev3");
    await expect(spans.nth(1).locator("title")).toContainText("still open");
  });

  test("longer range adds older overlays", async ({ page, state }) => {
    await login(page, state.users.viewer);
    await page.goto(`/services/${SLUG}?range=7d`);
    await expect(page.getByTestId("series-chart")).toBeVisible();
    // A 7-day slot is 84 min: 10 h and 10 h minus 5 min still merge.
    await expect(page.getByTestId("deployment-marker")).toHaveCount(5);
    await expect(page.getByTestId("deployment-marker").first()).toHaveAttribute(
      "data-versions",
      "v1.0.0",
    );
    const spans = page.getByTestId("incident-span");
    await expect(spans).toHaveCount(3);
    await expect(spans.first()).toHaveAttribute("data-severity", "sev2");
  });

  test("span links to its incident", async ({ page, state }) => {
    await login(page, state.users.viewer);
    await page.goto(`/services/${SLUG}?range=24h`);
    await page.getByTestId("incident-span").first().click();
    await expect(page).toHaveURL(new RegExp(`/incidents/${seeded.incidents.spike}$`));
    await expect(page.getByRole("heading", { name: /Chart latency spike/ })).toBeVisible();
  });

  test("model page draws the same overlays", async ({ page, state }) => {
    await login(page, state.users.viewer);
    await page.goto(`/models/${seeded.seriesId}?range=24h`);
    const card = page.getByTestId("model-series-card");
    await expect(card.getByTestId("series-chart")).toBeVisible();
    await expectBandAndAnomaly(page);
    await expect(card.getByTestId("deployment-marker")).toHaveCount(4);
    await expect(card.getByTestId("incident-span")).toHaveCount(2);
    await expect(
      card.getByRole("link", { name: "7 d" }),
    ).toHaveAttribute("href", `/models/${seeded.seriesId}?range=7d`);

    // An invalid custom range falls back to the default 7 days and shows a message.
    await page.goto(`/models/${seeded.seriesId}?from=soon&to=2026-01-01`);
    await expect(card.getByTestId("range-error")).toContainText('"soon"');
    await expect(card.getByTestId("deployment-marker")).toHaveCount(5);
  });

  test("incident page draws the onset window", async ({ page, state }) => {
    await login(page, state.users.viewer);
    await page.goto(`/incidents/${seeded.incidents.spike}`);
    await expectBandAndAnomaly(page);
    // The window is 3 h either side of the onset, 6 h ago: only the
    // deployment 7 h ago and this incident fall inside it.
    const markers = page.getByTestId("deployment-marker");
    await expect(markers).toHaveCount(1);
    await expect(markers.first()).toHaveAttribute("data-versions", "v1.3.0");
    const spans = page.getByTestId("incident-span");
    await expect(spans).toHaveCount(1);
    await expect(spans.first()).toHaveAttribute(
      "href",
      `/incidents/${seeded.incidents.spike}`,
    );
  });
});
