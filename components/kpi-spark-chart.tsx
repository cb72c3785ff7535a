"use client";

import { SparkAreaChart, SparkBarChart } from "@tremor/react";

export type KpiTrendPoint = { start: number; value: number | null };

/**
 * Draws a KPI card's trend as bars or an area. Buckets without data stay
 * empty instead of dropping to 0. Bars suit counts and sparse values.
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
