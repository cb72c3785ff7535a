import { formatCompact, formatNumber } from "@/components/format";

// Units of metric series, read from the suffix of the series name, and the
// axis and tooltip formats that go with them.

export type SeriesUnit =
  "percent" | "bytes" | "milliseconds" | "seconds" | "count";

/** Infers a series' unit from its name suffix; "count" when none is known. */
export function unitForSeries(name: string): SeriesUnit {
  if (/_(utilization|percent|pct)$/.test(name)) return "percent";
  if (/_bytes$/.test(name)) return "bytes";
  if (/_ms$/.test(name)) return "milliseconds";
  if (/_seconds$/.test(name)) return "seconds";
  return "count";
}

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** Formats a byte count with decimal (SI) prefixes, e.g. "1.2 MB". */
export function formatBytes(value: number, digits = 1): string {
  const sign = value < 0 ? "-" : "";
  let magnitude = Math.abs(value);
  let index = 0;
  while (magnitude >= 1000 && index < BYTE_UNITS.length - 1) {
    magnitude /= 1000;
    index += 1;
  }
  const text = magnitude.toLocaleString("en-US", {
    maximumFractionDigits: index === 0 ? 0 : digits,
  });
  return `${sign}${text} ${BYTE_UNITS[index]}`;
}

/**
 * Formats a y-axis tick in its unit, compactly, e.g. "45%", "1.2 MB" or
 * "1.2M". Percent series store percentages (0 to 100), not ratios.
 */
export function formatAxisValue(value: number, unit: SeriesUnit): string {
  switch (unit) {
    case "percent":
      return `${formatCompact(value)}%`;
    case "bytes":
      return formatBytes(value);
    case "milliseconds":
      return `${formatCompact(value)} ms`;
    case "seconds":
      return `${formatCompact(value)} s`;
    case "count":
      return formatCompact(value);
  }
}

/** Formats a tooltip value in its unit, with formatNumber's precision. */
export function formatMeasurement(value: number, unit: SeriesUnit): string {
  switch (unit) {
    case "percent":
      return `${formatNumber(value)}%`;
    case "bytes":
      return formatBytes(value, 2);
    case "milliseconds":
      return `${formatNumber(value)} ms`;
    case "seconds":
      return `${formatNumber(value)} s`;
    case "count":
      return formatNumber(value);
  }
}

/**
 * Formats a model's expected range in its unit, e.g. "12 ms to 40 ms". A
 * low bound of exactly 0 reads "at most X", because the detector clips the
 * band of a series with no negative training values at 0.
 * NOTE: an unclipped low bound of exactly 0 on a series that can go
 * negative would read "at most X" too, because only the bound is stored.
 */
export function formatExpectedRange(
  low: number,
  high: number,
  unit: SeriesUnit,
): string {
  if (low === 0) return `at most ${formatMeasurement(high, unit)}`;
  return `${formatMeasurement(low, unit)} to ${formatMeasurement(high, unit)}`;
}
