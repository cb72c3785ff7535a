import type { DemoSeries } from "@/lib/demo/catalog";

// Time shift and stream clock of the demo replay. Points up to the cutoff
// are backfilled at once, and each NAB file is shifted so that the cutoff
// is the time of the first demo run and its last point lands on the
// anchor, streamSteps steps later. After the cutoff one shared replay clock
// advances in 5-minute steps, so all series stream together, and every
// streamed point is stamped with the wall-clock time at which it is sent.

/** Interval of the NAB files and of one stream step. */
export const STEP_MS = 5 * 60 * 1000;
/** Share of a typical file that is backfilled before streaming starts. */
export const BACKFILL_SHARE = 0.85;

/** A demo series with its timestamps already shifted (epoch ms, sorted). */
export type DemoTrack = DemoSeries & {
  timestamps: number[];
  values: number[];
};

/** Returns the shift (ms) that moves a file's last point to the anchor. */
export function shiftFor(lastTimestamp: number, anchor: number): number {
  return anchor - lastTimestamp;
}

/** Returns a copy of the timestamps moved by the shift. */
export function shiftTimestamps(
  timestamps: readonly number[],
  shift: number,
): number[] {
  return timestamps.map((timestamp) => timestamp + shift);
}

/**
 * Returns how many 5-minute steps are streamed: the last
 * (1 - BACKFILL_SHARE) of the median file length. With NAB's 4,032-row
 * files that is 605 steps, about 2.1 days of data.
 */
export function streamStepCount(rowCounts: readonly number[]): number {
  if (rowCounts.length === 0) return 0;
  const sorted = [...rowCounts].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? sorted[middle]!
      : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return Math.round(median * (1 - BACKFILL_SHARE));
}

/** Returns the anchor: where the last point of every file lands. */
export function anchorFor(cutoff: number, streamSteps: number): number {
  return cutoff + streamSteps * STEP_MS;
}

/** Returns the replay clock after `position` stream steps. */
export function clockAt(cutoff: number, position: number): number {
  return cutoff + position * STEP_MS;
}

/** Returns the first index whose timestamp is greater than `time`. */
export function indexAfter(
  timestamps: readonly number[],
  time: number,
): number {
  let low = 0;
  let high = timestamps.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timestamps[middle]! <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Returns the points of a track with from < timestamp <= to. */
export function pointsBetween(
  track: Pick<DemoTrack, "timestamps" | "values">,
  from: number,
  to: number,
): [number, number][] {
  const first = indexAfter(track.timestamps, from);
  const end = indexAfter(track.timestamps, to);
  const points: [number, number][] = [];
  for (let index = first; index < end; index += 1) {
    points.push([track.timestamps[index]!, track.values[index]!]);
  }
  return points;
}

/**
 * Returns the stream position the clock should have reached after
 * `elapsedMs` of real time, at `speed` times real time (60 means one
 * 5-minute step every 5 seconds), capped at `streamSteps`.
 */
export function positionAfter(
  startPosition: number,
  elapsedMs: number,
  speed: number,
  streamSteps: number,
): number {
  const stepIntervalMs = STEP_MS / speed;
  const advanced = Math.floor(elapsedMs / stepIntervalMs);
  return Math.min(streamSteps, startPosition + advanced);
}

/**
 * Returns the wall-clock stamp of every replay time sent in one stream
 * request. The latest replay time gets `sentAt`. Earlier ones, sent
 * together when the stream catches up, go back by their replay distance
 * divided by `speed`. Every stamp is later than `after` and than the stamp
 * of the replay time before it, so stamps increase strictly.
 */
export function streamStamps(
  replayTimes: readonly number[],
  sentAt: number,
  speed: number,
  after: number,
): Map<number, number> {
  const times = [...new Set(replayTimes)].sort((a, b) => a - b);
  const stamps = new Map<number, number>();
  const latest = times.at(-1);
  if (latest === undefined) return stamps;

  let previous = after;
  for (const time of times) {
    const spread = Math.round(sentAt - (latest - time) / speed);
    const stamp = Math.max(spread, previous + 1);
    stamps.set(time, stamp);
    previous = stamp;
  }
  return stamps;
}
