"use client";

import { LineChart, type CustomTooltipProps } from "@tremor/react";

import {
  formatCompact,
  formatDateTime,
  formatFullDateTime,
  formatNumber,
} from "@/components/format";
import type { SeriesChartPoint } from "@/lib/services/queries";

const VALUE = "Value";
const EXPECTED_HIGH = "Expected high";
const EXPECTED_LOW = "Expected low";
const ANOMALOUS = "Anomalous";
const SCORE = "Anomaly score";
const THRESHOLD = "Threshold";

type ValueRow = {
  time: string;
  point: SeriesChartPoint;
  [VALUE]: number;
  [EXPECTED_HIGH]: number | null;
  [EXPECTED_LOW]: number | null;
  [ANOMALOUS]: number | null;
};

/**
 * Builds the chart rows. Tremor's LineChart cannot style single points, so
 * anomalies are drawn as a second, red line. That line carries the value
 * only at anomalous points and their direct neighbours, so it retraces the
 * value line on every segment that touches an anomalous point.
 */
function toValueRows(points: SeriesChartPoint[]): ValueRow[] {
  return points.map((point, index) => {
    const touchesAnomaly =
      point.isAnomaly ||
      Boolean(points[index - 1]?.isAnomaly) ||
      Boolean(points[index + 1]?.isAnomaly);
    return {
      time: formatDateTime(point.ts),
      point,
      [VALUE]: point.value,
      [EXPECTED_HIGH]: point.expectedHigh,
      [EXPECTED_LOW]: point.expectedLow,
      [ANOMALOUS]: touchesAnomaly ? point.value : null,
    };
  });
}

function PointTooltip({ active, payload }: CustomTooltipProps) {
  const row = payload?.[0]?.payload as ValueRow | undefined;
  if (!active || !row) return null;
  const { point } = row;
  return (
    <div className="rounded-md border border-slate-200 bg-white px-3 py-2 text-xs shadow-md">
      <p className="font-medium text-slate-900">
        {formatFullDateTime(point.ts)}
      </p>
      <p className="mt-1 text-slate-700">
        Value{" "}
        <span className="font-medium tabular-nums">
          {formatNumber(point.value)}
        </span>
        {point.pointCount > 1 && (
          <span className="text-slate-400">
            {" "}
            ({point.pointCount} points, {formatNumber(point.minValue)} to{" "}
            {formatNumber(point.maxValue)})
          </span>
        )}
      </p>
      {point.expectedLow !== null && point.expectedHigh !== null && (
        <p className="text-slate-500">
          Expected {formatNumber(point.expectedLow)} to{" "}
          {formatNumber(point.expectedHigh)}
        </p>
      )}
      {point.score !== null && (
        <p
          className={
            point.isAnomaly ? "font-medium text-rose-600" : "text-slate-500"
          }
        >
          Score {point.score.toFixed(2)}
          {point.isAnomaly ? ", anomalous" : ""}
        </p>
      )}
    </div>
  );
}

/**
 * Value of a series with the model's expected band and anomalous segments in
 * red, and underneath the anomaly score against the threshold of 1.
 */
export function SeriesChart({
  points,
  height = "h-56",
  showScore = true,
}: {
  points: SeriesChartPoint[];
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

  const rows = toValueRows(points);
  const hasBand = points.some((point) => point.expectedHigh !== null);
  const hasScores = points.some((point) => point.score !== null);
  const hasAnomalies = points.some((point) => point.isAnomaly);
  const lines = [
    ...(hasBand ? [{ category: EXPECTED_HIGH, color: "slate" }] : []),
    ...(hasBand ? [{ category: EXPECTED_LOW, color: "slate" }] : []),
    { category: VALUE, color: "indigo" },
    ...(hasAnomalies ? [{ category: ANOMALOUS, color: "rose" }] : []),
  ];

  const scoreRows = points.map((point) => ({
    time: formatDateTime(point.ts),
    [SCORE]: point.score,
    [THRESHOLD]: 1,
  }));

  return (
    <div data-testid="series-chart">
      <LineChart
        data={rows}
        index="time"
        categories={lines.map((line) => line.category)}
        colors={lines.map((line) => line.color)}
        valueFormatter={formatCompact}
        customTooltip={PointTooltip}
        connectNulls={false}
        autoMinValue
        yAxisWidth={48}
        className={height}
      />
      {showScore && hasScores && (
        <LineChart
          data={scoreRows}
          index="time"
          categories={[SCORE, THRESHOLD]}
          colors={["violet", "rose"]}
          valueFormatter={formatCompact}
          connectNulls={false}
          showLegend
          yAxisWidth={48}
          className="mt-2 h-28"
        />
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
