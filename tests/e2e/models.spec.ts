import { getConfig } from "@/lib/config";
import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import { enqueueSeriesScoring } from "@/lib/queue";
import {
  createSeries,
  insertPoints,
  syntheticValues,
  toPoints,
} from "@/tests/support/model-series";

import type { Page } from "@playwright/test";
import type pg from "pg";

import { expect, login, test } from "./support/fixtures";

// The Models page against the running server and worker: a responder
// retrains a series and watches the job finish, and an admin rolls back to
// the version that is not serving. The worker trains real models, so the
// waits are long.

const TRAINING_TIMEOUT_MS = 90_000;
const PHONE = { width: 390, height: 844 };

async function pageWidth(page: Page): Promise<number> {
  await page.waitForLoadState("networkidle");
  return page.evaluate(() => document.documentElement.scrollWidth);
}

/** Stores a drift measurement of the serving version with the given input PSI. */
async function insertDrift(db: pg.Client, inputPsi: number): Promise<void> {
  await db.query(
    `INSERT INTO model_drift
       (series_id, model_version_id, scored_until, input_psi, score_psi,
        points, score_points, points_since)
     SELECT series_id, id, now(), $2, 0.05, 288, 288, 300
       FROM model_version WHERE series_id = $1 AND status = 'active'`,
    [seriesId, inputPsi],
  );
}

test.describe.configure({ mode: "serial" });

let seriesId: number;

test("models page lists a trained series", async ({ page, state, db }) => {
  // Short of a retraining check, so that the worker queues no training of
  // its own before the responder's.
  const count =
    getConfig().VIGIL_MIN_TRAINING_POINTS + DEFAULT_RETRAIN_POLICY.checkEveryPoints - 30;
  seriesId = await createSeries(db, "lifecycle_cpu", "lifecycle-e2e");
  await insertPoints(db, seriesId, toPoints(syntheticValues({ count })));
  await enqueueSeriesScoring(db, [seriesId], { delaySeconds: 0 });
  await expect
    .poll(
      async () =>
        (
          await db.query(
            "SELECT count(*)::int AS count FROM model_version WHERE series_id = $1",
            [seriesId],
          )
        ).rows[0].count,
      { timeout: TRAINING_TIMEOUT_MS },
    )
    .toBe(1);

  await login(page, state.users.viewer);
  await page.getByRole("link", { name: "Models" }).click();
  await expect(page.getByRole("heading", { name: "Models" })).toBeVisible();
  const row = page.getByTestId(`models-row-${seriesId}`);
  await expect(row).toContainText("lifecycle_cpu");
  await expect(row).toContainText("v1");
  // The model's error threshold is named apart from the alarm threshold.
  const errorThreshold = page
    .getByTestId("models-table")
    .getByRole("columnheader", { name: /threshold/i });
  await expect(errorThreshold).toHaveText("Error threshold (robust SD)");
  await expect(errorThreshold).toHaveAttribute("title", /forecast error/);

  await row.getByRole("link", { name: "lifecycle_cpu" }).click();
  await expect(page.getByTestId("serving-model")).toContainText("v1");
  await expect(page.getByTestId("serving-model")).toContainText("first model");
  // A viewer may look but neither retrain nor roll back.
  await expect(page.getByTestId("retrain-button")).toHaveCount(0);
});

test("retrain button shows a job", async ({ page, state }) => {
  await login(page, state.users.responder);
  await page.goto(`/models/${seriesId}`);

  await page.getByTestId("retrain-button").click();

  await expect(page.getByRole("status")).toContainText(/Training job \d+ queued/);
  const jobs = page.getByTestId("training-jobs");
  await expect(jobs).toContainText("on request");
  await expect(jobs).toContainText("Rui Responder");
  // The page refreshes itself while the job is open, until it succeeds.
  await expect(jobs.getByTestId("training-job-status").first()).toHaveText(
    "succeeded",
    { timeout: TRAINING_TIMEOUT_MS },
  );
  await expect(page.getByTestId("model-version-2")).toBeVisible();
  // A responder may retrain but not roll back.
  await expect(page.getByTestId("activate-version-1")).toHaveCount(0);

  // On a phone the jobs are stacked cards in place of the table, and the
  // Models list moves its narrow columns under the series name.
  await page.setViewportSize(PHONE);
  await expect(page.getByTestId("training-jobs")).toBeHidden();
  const cards = page.getByTestId("training-job-cards");
  await expect(cards).toBeVisible();
  await expect(cards).toContainText("requested by Rui Responder");
  expect(await pageWidth(page)).toBeLessThanOrEqual(PHONE.width);
  await page.goto("/models");
  const details = page.getByTestId(`models-row-${seriesId}`).getByTestId("models-row-details");
  await expect(details).toBeVisible();
  await expect(details).toContainText("Drift (input / score)");
  await expect(details).toContainText("Precision");
  await expect(details).toContainText("succeeded");
  expect(await pageWidth(page)).toBeLessThanOrEqual(PHONE.width);
});

test("admin rolls back a version", async ({ page, state, db }) => {
  // Version 2 serves unless the holdout check rejected it. Either way the
  // admin activates the version that is not serving.
  const before = await db.query(
    "SELECT status FROM model_version WHERE series_id = $1 AND version = 2",
    [seriesId],
  );
  const target = before.rows[0].status === "active" ? 1 : 2;
  await login(page, state.users.admin);
  await page.goto(`/models/${seriesId}`);
  // A rejected v2 is newer than the serving v1, so activating it is no
  // rollback, and the button reads "Activate".
  const button = page.getByTestId(`activate-version-${target}`);
  await expect(button).toHaveText(target === 1 ? "Roll back to v1" : "Activate v2");
  let question = "";
  page.once("dialog", (dialog) => {
    question = dialog.message();
    void dialog.accept();
  });

  await button.click();

  await expect(page.getByRole("status")).toContainText(
    `Version 3 is active, a copy of version ${target}.`,
  );
  await expect(page.getByTestId("model-version-3")).toContainText(`copy of v${target}`);
  await expect(page.getByTestId("serving-model")).toContainText("v3");
  await expect(page.getByTestId("serving-model")).toContainText("rollback");
  expect(question).toMatch(target === 1 ? /^Roll back to version 1\?/ : /^Activate version 2 /);
  // v3 serves the target's model, so the target has no button, and the
  // other version is labelled by its age relative to the target.
  await expect(page.getByTestId(`activate-version-${target}`)).toHaveCount(0);
  await expect(page.getByTestId(`activate-version-${3 - target}`)).toHaveText(
    target === 1 ? "Activate v2" : "Roll back to v1",
  );
  const { rows } = await db.query(
    `SELECT version, status, reason, requested_by FROM model_version
      WHERE series_id = $1 ORDER BY version`,
    [seriesId],
  );
  expect(rows.map((row) => row.version)).toEqual([1, 2, 3]);
  expect(rows[2].status).toBe("active");
  expect(rows[2].reason).toBe("rollback");
  expect(rows[2].requested_by).toBe("Ada Admin");
  expect(rows.filter((row) => row.status === "active")).toHaveLength(1);
});

test("drift chart keeps its axis labels", async ({ page, state, db }) => {
  await insertDrift(db, 12);
  await login(page, state.users.viewer);
  await page.goto(`/models/${seriesId}`);

  const chart = page.getByTestId("drift-chart");
  // One measurement: the threshold is a note, not a lone dot.
  await expect(chart.getByTestId("drift-threshold-note")).toContainText(
    `input PSI of ${DEFAULT_RETRAIN_POLICY.driftThreshold}`,
  );
  await expect(chart).not.toContainText("Drift threshold");
  await expectTicksInside(page);
  await page.setViewportSize(PHONE);
  await expectTicksInside(page);

  await insertDrift(db, 0.1);
  await page.reload();

  await expect(chart.getByTestId("drift-threshold-note")).toHaveCount(0);
  await expect(chart).toContainText("Drift threshold");
  await expectTicksInside(page);
});

/** Checks that every y-axis tick label of the drift chart is whole and inside the chart. */
async function expectTicksInside(page: Page): Promise<void> {
  const chart = page.getByTestId("drift-chart");
  const ticks = chart.locator(".recharts-yAxis .recharts-cartesian-axis-tick-value");
  await expect(ticks.first()).toBeVisible();
  const chartBox = (await chart.boundingBox())!;
  for (const tick of await ticks.all()) {
    const text = (await tick.textContent()) ?? "";
    expect(text, "tick label").not.toMatch(/^\./);
    const box = (await tick.boundingBox())!;
    expect(box.x, `left edge of tick ${text}`).toBeGreaterThanOrEqual(chartBox.x);
  }
}
