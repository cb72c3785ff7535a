import type { SloUnit } from "@/lib/slo/definitions";

// Text forms of SLO numbers, shared by the timeline, the API views, the
// page and the reports.

/** Formats a share as a percentage with up to three decimals: 0.9995 is "99.95 %". */
export function formatRatio(value: number | null): string {
  if (value === null) return "no data";
  const percent = (value * 100).toFixed(3).replace(/\.?0+$/, "");
  return `${percent} %`;
}

/** Formats a burn rate such as "14.4x"; null is "no data". */
export function formatBurnRate(value: number | null): string {
  if (value === null) return "no data";
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2)}x`;
}

/** Formats an amount of error budget in its unit; seconds are shown in minutes. */
export function formatBudgetAmount(value: number, unit: SloUnit): string {
  if (unit === "seconds") return `${(value / 60).toFixed(1)} min`;
  const rounded = Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${rounded} ${unit}`;
}
