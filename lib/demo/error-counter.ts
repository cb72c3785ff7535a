import type { AnomalyWindow } from "@/lib/demo/nab";

// NAB has request counts but no failed-request counts, so the demo derives
// an error counter from the ELB request count: a small share of requests
// fails, and the share rises and falls inside each labelled anomaly window.
// The result is synthetic, not measured.

/** Share of requests that fail outside anomaly windows. */
export const BASE_ERROR_SHARE = 0.005;
/** Share of requests that fail at the middle of an anomaly window. */
export const PEAK_ERROR_SHARE = 0.12;

/**
 * Returns a uniform number in [0, 1) determined by the key, so that every
 * run derives the same counts (mulberry32 step on the key).
 */
export function uniformFromKey(key: number, salt: number): number {
  let state = (Math.floor(key) ^ Math.imul(salt, 0x9e3779b1)) >>> 0;
  state = (state + 0x6d2b79f5) >>> 0;
  let mixed = Math.imul(state ^ (state >>> 15), state | 1);
  mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
  return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
}

/**
 * Returns how far into an anomaly window a time lies, as a raised-cosine
 * bump: 0 outside every window and at its edges, 1 at its middle.
 */
export function anomalyIntensity(
  timestamp: number,
  windows: readonly AnomalyWindow[],
): number {
  for (const window of windows) {
    if (timestamp < window.start || timestamp > window.end) continue;
    const width = window.end - window.start;
    if (width <= 0) return 1;
    const phase = (timestamp - window.start) / width;
    return Math.sin(Math.PI * phase) ** 2;
  }
  return 0;
}

/** Returns the failure share at a time, before per-point noise. */
export function errorShareAt(
  timestamp: number,
  windows: readonly AnomalyWindow[],
): number {
  const intensity = anomalyIntensity(timestamp, windows);
  return BASE_ERROR_SHARE + (PEAK_ERROR_SHARE - BASE_ERROR_SHARE) * intensity;
}

/**
 * Derives a failed-request count for every request count. Each share gets
 * +-30% noise, and the fractional part of requests x share is rounded up
 * with that probability, so small counts still average to the share. Every
 * count is a whole number between 0 and its request count.
 */
export function deriveErrorCounts(
  timestamps: readonly number[],
  requests: readonly number[],
  windows: readonly AnomalyWindow[],
): number[] {
  return timestamps.map((timestamp, index) => {
    const requestCount = Math.max(0, Math.floor(requests[index] ?? 0));
    const key = timestamp / 1000;
    const noise = 0.7 + 0.6 * uniformFromKey(key, 1);
    const expected = requestCount * errorShareAt(timestamp, windows) * noise;
    const whole = Math.floor(expected);
    const roundUp = uniformFromKey(key, 2) < expected - whole ? 1 : 0;
    return Math.min(requestCount, whole + roundUp);
  });
}
