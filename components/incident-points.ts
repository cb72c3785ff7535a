import type { ScoredPointView } from "@/lib/incidents/queries";

// Pure helpers for the points that explain a detector incident.

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * Reads the onset point that the detector stores in its "opened" event as
 * data.onset ({ts, value, score, expectedLow, expectedHigh}). Returns null
 * when the data lacks it or it is malformed.
 */
export function onsetFromEventData(data: unknown): ScoredPointView | null {
  if (!data || typeof data !== "object") return null;
  const onset = (data as { onset?: unknown }).onset;
  if (!onset || typeof onset !== "object") return null;

  const fields = onset as Record<string, unknown>;
  const ts = typeof fields.ts === "string" ? new Date(fields.ts) : null;
  const observed = numberOrNull(fields.value);
  const score = numberOrNull(fields.score);
  if (!ts || Number.isNaN(ts.getTime()) || observed === null) return null;
  if (score === null) return null;

  return {
    ts,
    observed,
    score,
    expectedLow: numberOrNull(fields.expectedLow),
    expectedHigh: numberOrNull(fields.expectedHigh),
  };
}

export type Deviation = {
  direction: "above" | "below";
  /** Distance from the nearest bound of the expected range, in series units. */
  distance: number;
};

/** Returns how far a value lies outside its expected range, or null if inside. */
export function deviationOf(point: ScoredPointView): Deviation | null {
  if (point.expectedHigh !== null && point.observed > point.expectedHigh) {
    return {
      direction: "above",
      distance: point.observed - point.expectedHigh,
    };
  }
  if (point.expectedLow !== null && point.observed < point.expectedLow) {
    return { direction: "below", distance: point.expectedLow - point.observed };
  }
  return null;
}
