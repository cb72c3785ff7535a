// Splits a service's points into POST /api/v1/metrics bodies of at most
// `maxPoints` points each. Points go out in time order across the series of
// the service, so every request covers one time slice of all of them.

export type SeriesPoints = {
  name: string;
  labels: Record<string, string>;
  points: [number, number][];
};

export type MetricsBody = { service: string; series: SeriesPoints[] };

/** Largest number of points the demo puts into one request. */
export const MAX_POINTS_PER_REQUEST = 5_000;

export function countPoints(body: MetricsBody): number {
  return body.series.reduce((sum, series) => sum + series.points.length, 0);
}

export function buildMetricsBodies(
  service: string,
  series: readonly SeriesPoints[],
  maxPoints: number = MAX_POINTS_PER_REQUEST,
): MetricsBody[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) {
    throw new Error(`maxPoints must be a positive integer, got ${maxPoints}`);
  }

  // Flatten to (series, point) pairs and sort by time. The sort is stable,
  // so duplicate timestamps within one series keep their file order.
  const flat: { seriesIndex: number; point: [number, number] }[] = [];
  series.forEach((entry, seriesIndex) => {
    for (const point of entry.points) flat.push({ seriesIndex, point });
  });
  flat.sort((a, b) => a.point[0] - b.point[0]);

  const bodies: MetricsBody[] = [];
  for (let start = 0; start < flat.length; start += maxPoints) {
    const chunk = flat.slice(start, start + maxPoints);
    const bySeries = new Map<number, [number, number][]>();
    for (const { seriesIndex, point } of chunk) {
      const points = bySeries.get(seriesIndex) ?? [];
      points.push(point);
      bySeries.set(seriesIndex, points);
    }
    bodies.push({
      service,
      series: [...bySeries.entries()]
        .sort(([a], [b]) => a - b)
        .map(([seriesIndex, points]) => ({
          name: series[seriesIndex]!.name,
          labels: series[seriesIndex]!.labels,
          points,
        })),
    });
  }
  return bodies;
}
