"use client";

import { SparkAreaChart, SparkBarChart } from "@tremor/react";

export type KpiTrendPoint = { start: number; value: number | null };

/**
 * The small trend chart of a KPI card. Buckets without data stay empty
 * instead of dropping to 0; counts and sparse values read better as bars.
 */
export function KpiSparkChart({
  data,
  color,
  variant,
}: {
  data: KpiTrendPoint[];
  color: string;
  variant: "area" | "bar";
}) {
  if (data.every((point) => point.value === null)) {
    return (
      <div className="flex h-10 items-center text-xs text-slate-400">
        No trend in this range
      </div>
    );
  }
  const props = {
    data,
    index: "start",
    categories: ["value"],
    colors: [color],
    className: "h-10 w-full",
  };
  return variant === "bar" ? (
    <SparkBarChart {...props} />
  ) : (
    <SparkAreaChart {...props} connectNulls={false} autoMinValue />
  );
}
