"use client";

import { LineChart, type CustomTooltipProps } from "@tremor/react";

import {
  formatAxisValue,
  formatMeasurement,
  gapTimes,
  unitForSeries,
  type SeriesUnit,
} from "@/components/chart-format";
import {
  formatDateTime,
  formatFullDateTime,
  formatScore,
} from "@/components/format";
import {
  ALARM_THRESHOLD_DESCRIPTION,
  ALARM_THRESHOLD_LABEL,
  ERROR_THRESHOLD_LABEL,
} from "@/components/threshold-labels";
import type { SeriesChartPoint } from "@/lib/services/queries";

const VALUE = "Value";
const EXPECTED_HIGH = "Expected high";
const EXPECTED_LOW = "Expected low";
const ANOMALOUS = "Anomalous";
const LIKELIHOOD = "Anomaly likelihood";
const THRESHOLD = ALARM_THRESHOLD_LABEL;
/** Y-axis width in pixels, enough for ticks such as "900 MB" on one line. */
const Y_AXIS_WIDTH = 72;

type ValueRow = {
  time: string;
  point: SeriesChartPoint | null;
  [VALUE]: number | null;
  [EXPECTED_HIGH]: number | null;
  [EXPECTED_LOW]: number | null;
  [ANOMALOUS]: number | null;
};

type LikelihoodRow = {
  time: string;
  [LIKELIHOOD]: number | null;
  [THRESHOLD]: number;
};

/** Time range the x-axis spans, in epoch milliseconds. */
export type ChartRange = { from: number; to: number };

/**
 * Builds the chart rows, with empty rows where the range has no points so
 * that the categorical x-axis spans the whole range. Tremor's LineChart
 * cannot style single points, so anomalies are drawn as a second, red line.
 * That line carries the value only at anomalous points and their direct
 * neighbours, so it retraces the value line on every segment that touches
 * an anomalous point.
 */
function toRows(
  points: SeriesChartPoint[],
  range: ChartRange | undefined,
  alarmThreshold: number,
) {
  const entries: { ts: number; point: SeriesChartPoint | null }[] = points.map(
    (point) => ({ ts: point.ts, point }),
  );
  if (range) {
    const gaps = gapTimes(
      points.map((point) => point.ts),
      range.from,
      range.to,
    );
    entries.push(...gaps.map((ts) => ({ ts, point: null })));
    entries.sort((a, b) => a.ts - b.ts);
  }

  const valueRows: ValueRow[] = [];
  const likelihoodRows: LikelihoodRow[] = [];
  entries.forEach(({ ts, point }, index) => {
    const time = formatDateTime(ts);
    const touchesAnomaly =
      Boolean(point?.isAnomaly) ||
      Boolean(entries[index - 1]?.point?.isAnomaly) ||
      Boolean(entries[index + 1]?.point?.isAnomaly);
    valueRows.push({
      time,
      point,
      [VALUE]: point?.value ?? null,
      [EXPECTED_HIGH]: point?.expectedHigh ?? null,
      [EXPECTED_LOW]: point?.expectedLow ?? null,
      [ANOMALOUS]: point && touchesAnomaly ? point.value : null,
    });
    likelihoodRows.push({
      time,
      [LIKELIHOOD]: point?.likelihood ?? null,
      [THRESHOLD]: alarmThreshold,
    });
  });
  return { valueRows, likelihoodRows };
}

function makePointTooltip(unit: SeriesUnit) {
  return function PointTooltip({ active, payload }: CustomTooltipProps) {
    const row = payload?.[0]?.payload as ValueRow | undefined;
    const point = row?.point;
    if (!active || !point) return null;
    return (
      <div className="rounded-md border border-slate-200 bg-white px-3 py-2 text-xs shadow-md">
        <p className="font-medium text-slate-900">
          {formatFullDateTime(point.ts)}
        </p>
        <p className="mt-1 text-slate-700">
          Value{" "}
          <span className="font-medium tabular-nums">
            {formatMeasurement(point.value, unit)}
          </span>
          {point.pointCount > 1 && (
            <span className="text-slate-400">
              {" "}
              ({point.pointCount} points,{" "}
              {formatMeasurement(point.minValue, unit)} to{" "}
              {formatMeasurement(point.maxValue, unit)})
            </span>
          )}
        </p>
        {point.expectedLow !== null && point.expectedHigh !== null && (
          <p className="text-slate-500">
            Expected {formatMeasurement(point.expectedLow, unit)} to{" "}
            {formatMeasurement(point.expectedHigh, unit)}
          </p>
        )}
        {point.likelihood !== null && (
          <p
            className={
              point.isAnomaly ? "font-medium text-rose-600" : "text-slate-500"
            }
          >
            Likelihood {formatLikelihood(point.likelihood)}
            {point.isAnomaly ? ", alarm" : ""}
          </p>
        )}
        {point.score !== null && (
          <p className="text-slate-500">
            Forecast error {formatScore(point.score)} × the{" "}
            {ERROR_THRESHOLD_LABEL.toLowerCase()}
          </p>
        )}
      </div>
    );
  };
}

/**
 * Value of a series with the model's expected band and the alarms in red,
 * and underneath the anomaly likelihood against the series' alarm
 * threshold. With a `range`, the x-axis spans it even where the series has
 * no points.
 */
export function SeriesChart({
  seriesName,
  points,
  alarmThreshold,
  range,
  height = "h-56",
  showScore = true,
}: {
  seriesName: string;
  points: SeriesChartPoint[];
  /** Likelihood at or above which the detector raises an alarm. */
  alarmThreshold: number;
  range?: ChartRange;
  height?: string;
  showScore?: boolean;
}) {
  if (points.length === 0) {
    return (
      <div className="flex h-40 items-center justify-center rounded-md bg-slate-50 text-sm text-slate-500">
        No points in this time range
      </div>
    );
  }

  const unit = unitForSeries(seriesName);
  const { valueRows, likelihoodRows } = toRows(points, range, alarmThreshold);
  const hasBand = points.some((point) => point.expectedHigh !== null);
  const hasScores = points.some((point) => point.likelihood !== null);
  const hasAnomalies = points.some((point) => point.isAnomaly);
  const lines = [
    ...(hasBand ? [{ category: EXPECTED_HIGH, color: "slate" }] : []),
    ...(hasBand ? [{ category: EXPECTED_LOW, color: "slate" }] : []),
    { category: VALUE, color: "indigo" },
    ...(hasAnomalies ? [{ category: ANOMALOUS, color: "rose" }] : []),
  ];

  return (
    <div data-testid="series-chart">
      <LineChart
        data={valueRows}
        index="time"
        categories={lines.map((line) => line.category)}
        colors={lines.map((line) => line.color)}
        valueFormatter={(value) => formatAxisValue(value, unit)}
        customTooltip={makePointTooltip(unit)}
        connectNulls={false}
        autoMinValue
        yAxisWidth={Y_AXIS_WIDTH}
        className={height}
      />
      {showScore && hasScores && (
        <>
          {/* Tremor's legend takes about 60 px of the chart's height, which
              left too little room for the score ticks, so it is drawn here. */}
          <p className="mt-3 flex justify-end gap-4 text-xs text-slate-500">
            <span className="inline-flex items-center gap-1.5">
              <span className="size-2 rounded-full bg-violet-500" aria-hidden />
              {LIKELIHOOD}
            </span>
            <span
              className="inline-flex items-center gap-1.5"
              title={ALARM_THRESHOLD_DESCRIPTION}
            >
              <span className="size-2 rounded-full bg-rose-500" aria-hidden />
              {THRESHOLD} {formatLikelihood(alarmThreshold)}
            </span>
          </p>
          <LineChart
            data={likelihoodRows}
            index="time"
            categories={[LIKELIHOOD, THRESHOLD]}
            colors={["violet", "rose"]}
            valueFormatter={formatLikelihood}
            minValue={0}
            maxValue={1}
            connectNulls={false}
            showLegend={false}
            yAxisWidth={Y_AXIS_WIDTH}
            className="h-28"
          />
        </>
      )}
      {showScore && !hasScores && (
        <p className="mt-2 text-xs text-slate-500">
          No anomaly scores yet: the worker scores points once a model is
          trained for this series.
        </p>
      )}
    </div>
  );
}

/** Formats a likelihood with enough digits to tell 0.99 from 0.999. */
function formatLikelihood(value: number): string {
  if (value === 0 || value === 1) return String(value);
  return value >= 0.99 ? value.toFixed(4) : value.toFixed(2);
}
