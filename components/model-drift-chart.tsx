"use client";

import { LineChart } from "@tremor/react";

import { formatCompact, formatDateTime } from "@/components/format";

// Drift of a series' serving models over time: the population stability
// index (PSI) of the recent inputs and of the recent raw scores. The retrain
// policy's drift threshold is a flat line, or a note below the chart while
// there is only one measurement.

const INPUT = "Input PSI";
const SCORE = "Score PSI";
const THRESHOLD = "Drift threshold";
/** Y-axis width in pixels, enough for ticks such as "12" or "0.125". */
const Y_AXIS_WIDTH = 56;

export type DriftChartPoint = {
  measuredAt: string;
  inputPsi: number | null;
  scorePsi: number | null;
};

export function ModelDriftChart({
  points,
  threshold,
}: {
  points: DriftChartPoint[];
  threshold: number;
}) {
  // A flat line needs two rows. With one measurement the threshold would be
  // a lone dot that reads as a third measurement, so the note below gives it.
  const drawThreshold = points.length > 1;
  const rows = points.map((point) => ({
    time: formatDateTime(new Date(point.measuredAt)),
    [INPUT]: point.inputPsi,
    [SCORE]: point.scorePsi,
    ...(drawThreshold ? { [THRESHOLD]: threshold } : {}),
  }));
  const categories = drawThreshold ? [INPUT, SCORE, THRESHOLD] : [INPUT, SCORE];
  // Keeps the threshold inside the y-axis range, so that the points' height
  // compares with it even when it is not drawn.
  const highest = Math.max(
    threshold,
    ...points.flatMap((point) => [point.inputPsi ?? 0, point.scorePsi ?? 0]),
  );
  return (
    <div data-testid="drift-chart">
      <LineChart
        className="h-56"
        data={rows}
        index="time"
        categories={categories}
        colors={["indigo", "amber", "rose"]}
        valueFormatter={formatCompact}
        connectNulls
        minValue={0}
        maxValue={highest}
        yAxisWidth={Y_AXIS_WIDTH}
        showAnimation={false}
      />
      {!drawThreshold && (
        <p className="mt-1 text-xs text-slate-500" data-testid="drift-threshold-note">
          One measurement so far. The drift threshold is an input PSI of{" "}
          {formatCompact(threshold)}.
        </p>
      )}
    </div>
  );
}
