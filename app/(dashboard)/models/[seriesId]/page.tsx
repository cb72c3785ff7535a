import { RiArrowLeftLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import type { ReactNode } from "react";

import {
  buildHref,
  parseRangeSelection,
  type SearchParams,
} from "@/app/(dashboard)/_lib/search-params";
import { AutoRefresh } from "@/components/auto-refresh";
import { EmptyState } from "@/components/empty-state";
import {
  formatDuration,
  formatLabels,
  formatPercent,
  formatSignificant,
  formatThreshold,
} from "@/components/format";
import { LocalTime } from "@/components/local-time";
import { ActivateButton, RetrainButton } from "@/components/model-actions";
import {
  EpochProgress,
  formatPsi,
  ModelStatusBadge,
  REASON_LABEL,
  TrainingJobBadge,
} from "@/components/model-badges";
import { ModelDriftChart } from "@/components/model-drift-chart";
import { PageHeader } from "@/components/page-header";
import { RangeNotice, RangePicker } from "@/components/range-picker";
import { SeriesChart } from "@/components/series-chart";
import { TrainingJobCards } from "@/components/training-job-cards";
import {
  ERROR_THRESHOLD_DESCRIPTION,
  ERROR_THRESHOLD_LABEL,
  ERROR_THRESHOLD_UNIT,
} from "@/components/threshold-labels";
import { hasRole, requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import { feedbackPrecision } from "@/lib/feedback/precision";
import {
  loadSeriesModels,
  type ModelVersionSummary,
} from "@/lib/models/versions";
import {
  getChartOverlays,
  getSeriesChart,
  getSeriesChartContext,
} from "@/lib/services/queries";

export const metadata: Metadata = { title: "Model" };

/** Refresh interval while a training job is queued or running. */
const TRAINING_REFRESH_MS = 2000;

function Metric({ label, value, title }: { label: string; value: ReactNode; title?: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500" title={title}>
        {label}
      </dt>
      <dd className="mt-0.5 text-sm font-medium tabular-nums text-slate-900">{value}</dd>
    </div>
  );
}

function formatError(value: number | null): string {
  return value === null ? "–" : formatSignificant(value, 4);
}

function HoldoutText({ version }: { version: ModelVersionSummary }) {
  if (!version.holdout) return <span className="text-xs text-slate-400">–</span>;
  const { holdout } = version;
  return (
    <span className="text-xs text-slate-700" data-testid="holdout-evaluation">
      {formatError(holdout.candidateError)}
      {holdout.comparedVersion !== null
        ? ` vs ${formatError(holdout.currentError)} (v${holdout.comparedVersion})`
        : " (no serving version)"}
      <span className="text-slate-400">, {holdout.points} points</span>
    </span>
  );
}

function ServingModel({
  version,
  precision,
}: {
  version: ModelVersionSummary;
  precision: string;
}) {
  const quantiles = version.errorQuantiles;
  return (
    <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4" data-testid="serving-model">
      <Metric
        label="Version"
        value={
          <>
            v{version.version} <ModelStatusBadge status={version.status} />
          </>
        }
      />
      <Metric label="Reason" value={`${REASON_LABEL[version.reason]} (${version.requestedBy})`} />
      <Metric
        label="Serving since"
        value={<LocalTime value={version.activatedAt ?? version.createdAt} />}
      />
      <Metric label="Feedback precision" value={precision} />
      <Metric
        label="Training window"
        value={
          <>
            <LocalTime value={version.trainedFrom} /> – <LocalTime value={version.trainedTo} />
          </>
        }
        title={`${version.pointCount} points`}
      />
      <Metric label="Points" value={version.pointCount.toLocaleString("en-US")} />
      <Metric
        label="Final loss"
        value={version.finalLoss === null ? "–" : formatSignificant(version.finalLoss, 4)}
        title={version.epochs === null ? undefined : `after ${version.epochs} epochs`}
      />
      <Metric
        label={`${ERROR_THRESHOLD_LABEL} (${ERROR_THRESHOLD_UNIT})`}
        value={formatThreshold(version.threshold)}
        title={ERROR_THRESHOLD_DESCRIPTION}
      />
      <Metric
        label="Training error p50 / p90 / p99 / p99.9"
        value={
          quantiles
            ? [quantiles.p50, quantiles.p90, quantiles.p99, quantiles.p999]
                .map((value) => formatSignificant(value, 3))
                .join(" / ")
            : "–"
        }
      />
      <Metric label="Training time" value={formatDuration(version.trainingMs)} title={`${version.trainingMs} ms`} />
      <Metric label="Backend" value={`${version.kind}, ${version.backend}`} />
      <Metric label="Code version" value={version.codeVersion} />
    </dl>
  );
}

export default async function SeriesModelsPage({
  params,
  searchParams,
}: {
  params: Promise<{ seriesId: string }>;
  searchParams: Promise<SearchParams>;
}) {
  const user = await requireUser();
  const { seriesId: raw } = await params;
  if (!/^[1-9][0-9]{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) notFound();
  const now = new Date();
  const selection = parseRangeSelection(await searchParams, now);
  const db = getPool();
  const [models, chartContext] = await Promise.all([
    loadSeriesModels(db, Number(raw)),
    getSeriesChartContext(Number(raw)),
  ]);
  if (!models || !chartContext) notFound();
  const { series, versions, trainingJobs, drift } = models;

  const { from, to } = selection;
  const [chartPoints, overlays] = await Promise.all([
    getSeriesChart(series.id, from, to),
    getChartOverlays(chartContext.serviceId, from, to),
  ]);

  const precision = await feedbackPrecision(db, { seriesIds: [series.id] });
  const versionPrecision = new Map(
    precision.modelVersions.map((entry) => [entry.modelVersionId, entry]),
  );
  const describePrecision = (entry: { precision: number | null; real: number; falseAlarm: number } | undefined) =>
    entry?.precision != null
      ? `${formatPercent(entry.precision, 0)} (${entry.real} real, ${entry.falseAlarm} false)`
      : "no feedback";

  const active = versions.find((version) => version.status === "active") ?? null;
  const openJob = trainingJobs.find(
    (job) => job.status === "queued" || job.status === "running",
  );
  const canRetrain = hasRole(user.role, "responder");
  const canRollBack = hasRole(user.role, "admin");
  const labels = formatLabels(series.labels);

  return (
    <>
      <PageHeader
        title={series.name}
        description={`${series.serviceName}${labels ? ` · ${labels}` : ""}`}
        actions={
          <>
            {openJob && <AutoRefresh intervalMs={TRAINING_REFRESH_MS} />}
            {canRetrain && <RetrainButton seriesId={series.id} />}
          </>
        }
      >
        <Link
          href="/models"
          prefetch={false}
          className="mb-1 inline-flex items-center gap-1 text-xs text-slate-500 hover:text-slate-700"
        >
          <RiArrowLeftLine className="size-3.5" aria-hidden /> Models
        </Link>
      </PageHeader>

      <div className="space-y-6">
        <Card className="p-4" data-testid="model-series-card">
          <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
            <div className="min-w-0">
              <h2 className="text-sm font-semibold text-slate-900">
                Values and expected range
              </h2>
              <p className="text-xs text-slate-500">
                {selection.description}, with the deployments
                and incidents of{" "}
                <Link
                  href={`/services/${series.serviceSlug}`}
                  prefetch={false}
                  className="text-indigo-600 hover:text-indigo-800"
                >
                  {series.serviceName}
                </Link>
              </p>
            </div>
            <RangePicker path={`/models/${series.id}`} selection={selection} />
          </div>
          {selection.error && <RangeNotice message={selection.error} />}
          <SeriesChart
            seriesName={series.name}
            points={chartPoints}
            alarmThreshold={
              chartContext.alarmThreshold ?? DEFAULT_SETTINGS.alarmThreshold
            }
            range={{ from: from.getTime(), to: to.getTime() }}
            overlays={{
              ...overlays,
              now: now.getTime(),
              incidentListHref: buildHref("/incidents", {
                service: series.serviceSlug,
              }),
            }}
          />
        </Card>

        <Card className="p-4">
          <h2 className="mb-3 text-sm font-semibold text-slate-900">Serving model</h2>
          {active ? (
            <ServingModel
              version={active}
              precision={describePrecision(versionPrecision.get(active.id))}
            />
          ) : (
            <EmptyState title="No serving model">
              The worker trains the first model once the series has enough
              history, or a responder can request a training.
            </EmptyState>
          )}
        </Card>

        <Card className="p-4">
          <h2 className="mb-3 text-sm font-semibold text-slate-900">Training jobs</h2>
          {trainingJobs.length === 0 ? (
            <p className="text-sm text-slate-500">
              No training jobs yet. The worker queues one on its schedule or when
              drift exceeds the threshold, and responders can request one.
            </p>
          ) : (
            <div className="relative overflow-x-auto">
              <table className="hidden min-w-full text-sm sm:table" data-testid="training-jobs">
                <thead className="text-left text-xs text-slate-500">
                  <tr>
                    <th className="py-1 pr-4 font-medium">Job</th>
                    <th className="py-1 pr-4 font-medium">Reason</th>
                    <th className="py-1 pr-4 font-medium">Requested by</th>
                    <th className="py-1 pr-4 font-medium">Status</th>
                    <th className="py-1 pr-4 font-medium">Progress</th>
                    <th className="py-1 pr-4 font-medium">Outcome</th>
                    <th className="py-1 pr-4 font-medium">Queued</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {trainingJobs.map((job) => (
                    <tr key={job.id} data-testid={`training-job-${job.id}`}>
                      <td className="py-1.5 pr-4 tabular-nums">#{job.id}</td>
                      <td className="py-1.5 pr-4">{REASON_LABEL[job.reason]}</td>
                      <td className="py-1.5 pr-4">{job.requestedByName}</td>
                      <td className="py-1.5 pr-4">
                        <TrainingJobBadge status={job.status} epochsDone={job.epochsDone} epochsTotal={job.epochsTotal} />
                      </td>
                      <td className="py-1.5 pr-4">
                        <EpochProgress epochsDone={job.epochsDone} epochsTotal={job.epochsTotal} />
                      </td>
                      <td className="max-w-md py-1.5 pr-4 text-xs text-slate-600">
                        {job.message ?? ""}
                      </td>
                      <td className="py-1.5 pr-4 text-xs">
                        <LocalTime value={job.createdAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <TrainingJobCards jobs={trainingJobs} className="sm:hidden" />
            </div>
          )}
        </Card>

        <Card className="p-4">
          <h2 className="mb-1 text-sm font-semibold text-slate-900">Drift</h2>
          <p className="mb-3 text-xs text-slate-500">
            Population stability index (PSI) of the newest{" "}
            {DEFAULT_RETRAIN_POLICY.driftWindowPoints} values against the
            training deciles, and of the newest raw scores against the training
            error quantiles, measured every {DEFAULT_RETRAIN_POLICY.checkEveryPoints}{" "}
            scored points. An input PSI of {DEFAULT_RETRAIN_POLICY.driftThreshold}{" "}
            or above makes the worker retrain, unless a candidate was rejected
            since the serving version started.
          </p>
          {drift.length === 0 ? (
            <p className="text-sm text-slate-500">
              Not measured yet: the first measurement follows{" "}
              {DEFAULT_RETRAIN_POLICY.checkEveryPoints} scored points.
            </p>
          ) : (
            <>
              <ModelDriftChart
                points={drift.map((entry) => ({
                  measuredAt: entry.measuredAt.toISOString(),
                  inputPsi: entry.inputPsi,
                  scorePsi: entry.scorePsi,
                }))}
                threshold={DEFAULT_RETRAIN_POLICY.driftThreshold}
              />
              <p className="mt-2 text-xs text-slate-600" data-testid="latest-drift">
                Latest: input PSI {formatPsi(drift.at(-1)!.inputPsi)}, score PSI{" "}
                {formatPsi(drift.at(-1)!.scorePsi)} for v{drift.at(-1)!.modelVersion},{" "}
                {drift.at(-1)!.pointsSince.toLocaleString("en-US")} points after its
                retraining clock started
                {drift.at(-1)!.retrainReason
                  ? `, retraining queued (${REASON_LABEL[drift.at(-1)!.retrainReason!]})`
                  : ""}
                .
              </p>
            </>
          )}
        </Card>

        <Card className="p-4">
          <h2 className="mb-1 text-sm font-semibold text-slate-900">Versions</h2>
          <p className="mb-3 text-xs text-slate-500">
            Holdout: mean squared forecast residual of the candidate on the
            newest {DEFAULT_RETRAIN_POLICY.holdoutPoints} points (at most a
            quarter of the history) against the version serving then, in the
            series&apos; units squared. A candidate
            more than {Math.round(DEFAULT_RETRAIN_POLICY.tolerance * 100)}% worse
            is rejected and kept here, flagged.
          </p>
          {versions.length === 0 ? (
            <p className="text-sm text-slate-500">No versions yet.</p>
          ) : (
            // relative: the sr-only header is absolutely positioned, and
            // without a positioned ancestor it widens the page on phones.
            <div className="relative overflow-x-auto">
              <table className="min-w-full text-sm" data-testid="model-versions">
                <thead className="text-left text-xs text-slate-500">
                  <tr>
                    <th className="py-1 pr-4 font-medium">Version</th>
                    <th className="py-1 pr-4 font-medium">Status</th>
                    <th className="py-1 pr-4 font-medium">Reason</th>
                    <th className="py-1 pr-4 font-medium">Created</th>
                    <th className="py-1 pr-4 font-medium">Holdout error</th>
                    <th className="py-1 pr-4 font-medium">Loss</th>
                    <th className="py-1 pr-4 font-medium" title={ERROR_THRESHOLD_DESCRIPTION}>
                      {ERROR_THRESHOLD_LABEL} ({ERROR_THRESHOLD_UNIT})
                    </th>
                    <th className="py-1 pr-4 font-medium">Precision</th>
                    <th className="py-1 pr-4 font-medium">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {versions.map((version) => (
                    <tr
                      key={version.id}
                      data-testid={`model-version-${version.version}`}
                      className={version.status === "rejected" ? "bg-amber-50/60" : undefined}
                    >
                      <td className="py-1.5 pr-4 font-medium">
                        v{version.version}
                        {version.sourceVersion !== null && (
                          <span className="ml-1 text-xs font-normal text-slate-500">
                            copy of v{version.sourceVersion}
                          </span>
                        )}
                      </td>
                      <td className="py-1.5 pr-4">
                        <ModelStatusBadge status={version.status} />
                      </td>
                      <td className="py-1.5 pr-4 text-xs">
                        {REASON_LABEL[version.reason]}
                        <span className="text-slate-500"> ({version.requestedBy})</span>
                      </td>
                      <td className="py-1.5 pr-4 text-xs">
                        <LocalTime value={version.createdAt} />
                      </td>
                      <td className="py-1.5 pr-4">
                        <HoldoutText version={version} />
                      </td>
                      <td className="py-1.5 pr-4 text-xs tabular-nums">
                        {version.finalLoss === null ? "–" : formatSignificant(version.finalLoss, 3)}
                      </td>
                      <td className="py-1.5 pr-4 text-xs tabular-nums">
                        {formatThreshold(version.threshold)}
                      </td>
                      <td className="py-1.5 pr-4 text-xs">
                        {describePrecision(versionPrecision.get(version.id))}
                      </td>
                      <td className="py-1.5 pr-4 text-right">
                        {canRollBack &&
                          (version.status === "retired" || version.status === "rejected") && (
                            <ActivateButton
                              seriesId={series.id}
                              version={version.version}
                              servingModelVersion={active ? (active.sourceVersion ?? active.version) : null}
                            />
                          )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      </div>
    </>
  );
}
