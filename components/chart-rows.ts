import type { SeriesChartPoint } from "@/lib/services/queries";

// Rows of a series chart, built from the downsampled buckets of
// getSeriesChart.

/** One drawn point of the value chart, or an empty row that breaks the lines at a gap. */
export type ChartRow = {
  ts: number;
  value: number | null;
  /** Expected range as [low, high], which recharts draws as a range area. */
  band: [number, number] | null;
  /** The value again at the bucket's most anomalous point, drawn as a red dot. */
  anomaly: number | null;
  likelihood: number | null;
  bucket: SeriesChartPoint | null;
};

/** A gap wider than this many typical bucket spacings breaks the lines. */
const GAP_FACTOR = 2.5;

function median(values: number[]): number | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Expands each bucket into the points drawn for it: its minimum and maximum
 * in time order, plus its most anomalous point, so that the line shows the
 * full spread of the values behind each pixel. Inserts an empty row where
 * the series has a gap, so that the lines and the band break there.
 */
export function toChartRows(points: readonly SeriesChartPoint[]): ChartRow[] {
  const spacing = median(
    points.slice(1).map((point, index) => point.ts - points[index]!.ts),
  );
  const rows: ChartRow[] = [];
  points.forEach((bucket, index) => {
    const previous = points[index - 1];
    if (
      previous &&
      spacing !== undefined &&
      bucket.ts - previous.ts > GAP_FACTOR * spacing
    ) {
      rows.push(emptyRow(Math.max(previous.maxTs, previous.minTs) + 1));
    }

    const drawn = new Map<number, number>();
    if (bucket.pointCount === 1) {
      drawn.set(bucket.ts, bucket.value);
    } else {
      drawn.set(bucket.minTs, bucket.minValue);
      drawn.set(bucket.maxTs, bucket.maxValue);
    }
    if (bucket.anomalyTs !== null) drawn.set(bucket.anomalyTs, bucket.value);

    const band: [number, number] | null =
      bucket.expectedLow !== null && bucket.expectedHigh !== null
        ? [bucket.expectedLow, bucket.expectedHigh]
        : null;
    [...drawn.entries()]
      .sort(([a], [b]) => a - b)
      .forEach(([ts, value]) => {
        rows.push({
          ts,
          value,
          band,
          anomaly: ts === bucket.anomalyTs ? value : null,
          likelihood: bucket.likelihood,
          bucket,
        });
      });
  });
  return rows;
}

function emptyRow(ts: number): ChartRow {
  return { ts, value: null, band: null, anomaly: null, likelihood: null, bucket: null };
}
