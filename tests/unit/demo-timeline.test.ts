import { describe, expect, it } from "vitest";

import { DEMO_SERIES } from "@/lib/demo/catalog";
import {
  clockAt,
  cutoffFor,
  indexAfter,
  pointsBetween,
  positionAfter,
  shiftFor,
  shiftTimestamps,
  STEP_MS,
  streamStepCount,
} from "@/lib/demo/timeline";
import { loadDemoTracks } from "@/lib/demo/tracks";

const ANCHOR = Date.UTC(2026, 11, 4, 12, 0, 0);

describe("time shift", () => {
  it("moves the last point onto the anchor", () => {
    const last = Date.UTC(2014, 3, 24, 0, 39);
    const shift = shiftFor(last, ANCHOR);
    expect(last + shift).toBe(ANCHOR);
  });

  it("keeps the spacing of the points", () => {
    const shifted = shiftTimestamps([0, STEP_MS, 3 * STEP_MS], 1000);
    expect(shifted).toEqual([1000, 1000 + STEP_MS, 1000 + 3 * STEP_MS]);
  });
});

describe("stream clock", () => {
  it("streams 15% of the median file length", () => {
    expect(streamStepCount([4032, 4032, 4730])).toBe(605);
    expect(streamStepCount([100, 200])).toBe(23);
    expect(streamStepCount([])).toBe(0);
  });

  it("places the cutoff whole steps before the anchor", () => {
    const cutoff = cutoffFor(ANCHOR, 605);
    expect(ANCHOR - cutoff).toBe(605 * STEP_MS);
    expect(clockAt(cutoff, 605)).toBe(ANCHOR);
    expect(clockAt(cutoff, 1)).toBe(cutoff + STEP_MS);
  });

  it("advances one step per 5 s at speed 60", () => {
    expect(positionAfter(0, 4_999, 60, 605)).toBe(0);
    expect(positionAfter(0, 5_000, 60, 605)).toBe(1);
    expect(positionAfter(10, 60_000, 60, 605)).toBe(22);
    expect(positionAfter(0, 10_000_000, 60, 605)).toBe(605);
  });

  it("advances faster at higher speeds", () => {
    expect(positionAfter(0, 5_000, 600, 605)).toBe(10);
  });
});

describe("pointsBetween", () => {
  const track = { timestamps: [10, 20, 20, 30, 40], values: [1, 2, 3, 4, 5] };

  it("excludes the start and includes the end", () => {
    expect(pointsBetween(track, 10, 30)).toEqual([
      [20, 2],
      [20, 3],
      [30, 4],
    ]);
  });

  it("returns nothing for an empty range", () => {
    expect(pointsBetween(track, 40, 100)).toEqual([]);
  });

  it("covers every point exactly once across ranges", () => {
    const all = [
      ...pointsBetween(track, -Infinity, 20),
      ...pointsBetween(track, 20, 35),
      ...pointsBetween(track, 35, 40),
    ];
    expect(all.map(([, value]) => value)).toEqual([1, 2, 3, 4, 5]);
  });

  it("finds the first index after a time", () => {
    expect(indexAfter(track.timestamps, 20)).toBe(3);
    expect(indexAfter(track.timestamps, 5)).toBe(0);
    expect(indexAfter(track.timestamps, 40)).toBe(5);
  });
});

describe("loadDemoTracks", () => {
  it("ends every series at the anchor", async () => {
    const { tracks } = await loadDemoTracks(ANCHOR);
    expect(tracks).toHaveLength(DEMO_SERIES.length);
    for (const track of tracks) {
      expect(track.timestamps.at(-1), track.file).toBe(ANCHOR);
      expect(track.values).toHaveLength(track.timestamps.length);
    }
  });

  it("backfills about 85% of a 14-day file", async () => {
    const { tracks, rowCounts } = await loadDemoTracks(ANCHOR);
    const cutoff = cutoffFor(ANCHOR, streamStepCount(rowCounts));
    const elb = tracks.find((track) => track.name === "elb_request_count")!;
    const backfilled = pointsBetween(elb, -Infinity, cutoff).length;
    const share = backfilled / elb.timestamps.length;
    expect(share).toBeGreaterThan(0.84);
    expect(share).toBeLessThan(0.86);
  });

  it("backfills enough history to train every series", async () => {
    const { tracks, rowCounts } = await loadDemoTracks(ANCHOR);
    const cutoff = cutoffFor(ANCHOR, streamStepCount(rowCounts));
    for (const track of tracks) {
      const backfilled = pointsBetween(track, -Infinity, cutoff).length;
      expect(backfilled, track.file).toBeGreaterThanOrEqual(500);
    }
  });
});
