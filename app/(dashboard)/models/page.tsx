import { RiBrainLine } from "@remixicon/react";
import { Card } from "@tremor/react";
import type { Metadata } from "next";
import Link from "next/link";

import { AutoRefresh } from "@/components/auto-refresh";
import { EmptyState } from "@/components/empty-state";
import { formatLabels, formatPercent, formatThreshold } from "@/components/format";
import { LocalTime } from "@/components/local-time";
import {
  formatPsi,
  REASON_LABEL,
  TrainingJobBadge,
} from "@/components/model-badges";
import { PageHeader } from "@/components/page-header";
import {
  ERROR_THRESHOLD_DESCRIPTION,
  ERROR_THRESHOLD_LABEL,
  ERROR_THRESHOLD_UNIT,
} from "@/components/threshold-labels";
import { requireUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import { DEFAULT_RETRAIN_POLICY } from "@/lib/detector/retrain-policy";
import { feedbackPrecision } from "@/lib/feedback/precision";
import {
  listModelOverview,
  OVERVIEW_LIMIT,
  type SeriesModelOverview,
} from "@/lib/models/overview";

export const metadata: Metadata = { title: "Models" };

/** Refresh interval while a training job is queued or running. */
const TRAINING_REFRESH_MS = 3000;

function driftTone(value: number | null): string {
  return value !== null && value >= DEFAULT_RETRAIN_POLICY.driftThreshold
    ? "font-medium text-rose-700"
    : "text-slate-700";
}

type Precision = { precision: number | null; real: number; falseAlarm: number };

function DriftValues({ drift }: { drift: SeriesModelOverview["drift"] }) {
  if (!drift) return <span className="text-xs text-slate-500">not measured yet</span>;
  return (
    <>
      <span className={driftTone(drift.inputPsi)}>{formatPsi(drift.inputPsi)}</span>
      {" / "}
      <span className={driftTone(drift.scorePsi)}>{formatPsi(drift.scorePsi)}</span>
    </>
  );
}

function PrecisionValue({ precision }: { precision: Precision | undefined }) {
  if (precision?.precision == null) {
    return <span className="text-xs text-slate-500">no feedback</span>;
  }
  return (
    <span title={`${precision.real} real, ${precision.falseAlarm} false alarms`}>
      {formatPercent(precision.precision, 0)}
    </span>
  );
}

function TrainingValue({ job }: { job: SeriesModelOverview["job"] }) {
  if (!job) return <span className="text-xs text-slate-500">none</span>;
  return (
    <TrainingJobBadge
      status={job.status}
      epochsDone={job.epochsDone}
      epochsTotal={job.epochsTotal}
    />
  );
}

/** Columns that phones show under the series name instead, to fit 390 px. */
const WIDE_ONLY = "hidden px-4 py-2 sm:table-cell";

export default async function ModelsPage() {
  await requireUser();
  const db = getPool();
  const { rows, total } = await listModelOverview(db);
  const precision = await feedbackPrecision(db, {
    seriesIds: rows.map((row) => row.seriesId),
  });
  const precisionBySeries = new Map(
    precision.series.map((entry) => [entry.seriesId, entry]),
  );
  const training = rows.some(
    (row) => row.job?.status === "queued" || row.job?.status === "running",
  );

  return (
    <>
      <PageHeader
        title="Models"
        description="The anomaly model of each series: serving version, drift, feedback precision and training jobs."
        actions={training ? <AutoRefresh intervalMs={TRAINING_REFRESH_MS} /> : null}
      />
      {rows.length === 0 ? (
        <EmptyState
          title="No models yet"
          icon={<RiBrainLine className="size-6" aria-hidden />}
        >
          The worker trains a series&apos; first model once the series has
          enough history. Send metrics through the ingest API to get started.
        </EmptyState>
      ) : (
        <Card className="overflow-x-auto p-0">
          <table className="min-w-full text-sm" data-testid="models-table">
            <thead className="border-b border-slate-200 bg-slate-50 text-left text-xs text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Series</th>
                <th className="px-4 py-2 font-medium">Serving version</th>
                <th className={`${WIDE_ONLY} font-medium`} title={ERROR_THRESHOLD_DESCRIPTION}>
                  {ERROR_THRESHOLD_LABEL}{" "}
                  <span className="font-normal">({ERROR_THRESHOLD_UNIT})</span>
                </th>
                <th className={`${WIDE_ONLY} font-medium`} title="Population stability index of the newest inputs and raw scores against training">
                  Drift (input / score PSI)
                </th>
                <th className={`${WIDE_ONLY} font-medium`} title="Share of judged detector incidents marked as real anomalies">
                  Precision
                </th>
                <th className={`${WIDE_ONLY} font-medium`}>Training</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {rows.map((row) => {
                const seriesPrecision = precisionBySeries.get(row.seriesId);
                return (
                  <tr key={row.seriesId} data-testid={`models-row-${row.seriesId}`}>
                    <td className="px-4 py-2">
                      <Link
                        href={`/models/${row.seriesId}`}
                        prefetch={false}
                        className="font-medium text-indigo-700 hover:underline"
                      >
                        {row.seriesName}
                      </Link>
                      <p className="text-xs text-slate-500">
                        {row.serviceName}
                        {formatLabels(row.labels) && ` · ${formatLabels(row.labels)}`}
                      </p>
                      <dl
                        className="mt-1 grid grid-cols-[auto_1fr] gap-x-2 text-xs text-slate-500 sm:hidden"
                        data-testid="models-row-details"
                      >
                        <dt>{ERROR_THRESHOLD_LABEL}</dt>
                        <dd className="tabular-nums text-slate-700">
                          {row.active ? formatThreshold(row.active.threshold) : "–"}
                        </dd>
                        <dt>Drift (input / score)</dt>
                        <dd className="tabular-nums">
                          <DriftValues drift={row.drift} />
                        </dd>
                        <dt>Precision</dt>
                        <dd className="tabular-nums text-slate-700">
                          <PrecisionValue precision={seriesPrecision} />
                        </dd>
                        <dt>Training</dt>
                        <dd>
                          <TrainingValue job={row.job} />
                        </dd>
                      </dl>
                    </td>
                    <td className="px-4 py-2">
                      {row.active ? (
                        <>
                          <span className="font-medium text-slate-900">
                            v{row.active.version}
                          </span>{" "}
                          <span className="text-xs text-slate-500">
                            {REASON_LABEL[row.active.reason]},{" "}
                            <LocalTime value={row.active.activatedAt ?? row.active.createdAt} />
                          </span>
                        </>
                      ) : (
                        <span className="text-xs text-slate-500">none</span>
                      )}
                      {row.rejectedCount > 0 && (
                        <p className="text-xs text-amber-800">
                          {row.rejectedCount} rejected candidate
                          {row.rejectedCount === 1 ? "" : "s"} flagged
                        </p>
                      )}
                    </td>
                    <td className={`${WIDE_ONLY} tabular-nums`}>
                      {row.active ? formatThreshold(row.active.threshold) : "–"}
                    </td>
                    <td className={`${WIDE_ONLY} tabular-nums`}>
                      <DriftValues drift={row.drift} />
                    </td>
                    <td className={`${WIDE_ONLY} tabular-nums`}>
                      <PrecisionValue precision={seriesPrecision} />
                    </td>
                    <td className={WIDE_ONLY}>
                      <TrainingValue job={row.job} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {total > rows.length && (
            <p className="border-t border-slate-200 px-4 py-2 text-xs text-slate-500">
              Showing the first {OVERVIEW_LIMIT} of {total} series with models.
            </p>
          )}
        </Card>
      )}
    </>
  );
}
