"use client";

import { LineChart } from "@tremor/react";

import { formatDateTime } from "@/components/format";

// Drift of a series' serving models over time: the population stability
// index (PSI) of the recent inputs and of the recent raw scores, with the
// retrain policy's drift threshold as a flat line.

const INPUT = "Input PSI";
const SCORE = "Score PSI";
const THRESHOLD = "Drift threshold";

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
  const rows = points.map((point) => ({
    time: formatDateTime(new Date(point.measuredAt)),
    [INPUT]: point.inputPsi,
    [SCORE]: point.scorePsi,
    [THRESHOLD]: threshold,
  }));
  return (
    <div data-testid="drift-chart">
      <LineChart
        className="h-56"
        data={rows}
        index="time"
        categories={[INPUT, SCORE, THRESHOLD]}
        colors={["indigo", "amber", "rose"]}
        valueFormatter={(value) => value.toFixed(3)}
        connectNulls
        yAxisWidth={48}
        showAnimation={false}
      />
    </div>
  );
}
