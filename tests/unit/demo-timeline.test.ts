import { describe, expect, it } from "vitest";

import { DEMO_SERIES } from "@/lib/demo/catalog";
import {
  anchorFor,
  clockAt,
  indexAfter,
  pointsBetween,
  positionAfter,
  shiftFor,
  shiftTimestamps,
  STEP_MS,
  streamStamps,
  streamStepCount,
} from "@/lib/demo/timeline";
import { loadDemoTracks } from "@/lib/demo/tracks";

const ANCHOR = Date.UTC(2026, 11, 4, 12, 0, 0);
const CUTOFF = Date.UTC(2026, 11, 2, 13, 35, 0);

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

  it("places the anchor whole steps after the cutoff", () => {
    const anchor = anchorFor(CUTOFF, 605);
    expect(anchor - CUTOFF).toBe(605 * STEP_MS);
    expect(clockAt(CUTOFF, 605)).toBe(anchor);
    expect(clockAt(CUTOFF, 1)).toBe(CUTOFF + STEP_MS);
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

describe("streamStamps", () => {
  const sentAt = Date.UTC(2026, 11, 4, 12, 0, 0);

  it("stamps one step with the send time", () => {
    const stamps = streamStamps([CUTOFF + STEP_MS], sentAt, 60, CUTOFF);
    expect(stamps.get(CUTOFF + STEP_MS)).toBe(sentAt);
    expect(stamps.size).toBe(1);
  });

  it("spreads a catch-up over the step interval", () => {
    const times = [1, 2, 3].map((step) => CUTOFF + step * STEP_MS);
    const stamps = streamStamps(times, sentAt, 60, CUTOFF);
    expect(stamps.get(times[0]!)).toBe(sentAt - 10_000);
    expect(stamps.get(times[1]!)).toBe(sentAt - 5_000);
    expect(stamps.get(times[2]!)).toBe(sentAt);
  });

  it("gives duplicate times one stamp", () => {
    const time = CUTOFF + STEP_MS;
    const stamps = streamStamps([time, time, time], sentAt, 60, CUTOFF);
    expect(stamps.size).toBe(1);
    expect(stamps.get(time)).toBe(sentAt);
  });

  it("stays after the previous stamp", () => {
    const times = [1, 2].map((step) => CUTOFF + step * STEP_MS);
    const stamps = streamStamps(times, sentAt, 60, sentAt);
    expect(stamps.get(times[0]!)).toBe(sentAt + 1);
    expect(stamps.get(times[1]!)).toBe(sentAt + 2);
  });

  it("increases strictly at high speeds", () => {
    const times = [0, 1_000, 2_000, 3_000].map((offset) => CUTOFF + offset);
    const stamps = [...streamStamps(times, sentAt, 60_000, CUTOFF).values()];
    for (let index = 1; index < stamps.length; index += 1) {
      expect(stamps[index]!).toBeGreaterThan(stamps[index - 1]!);
    }
    expect(stamps.at(-1)).toBe(sentAt + 3);
  });

  it("returns nothing for no times", () => {
    expect(streamStamps([], sentAt, 60, CUTOFF).size).toBe(0);
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
    const { tracks, anchor, streamSteps } = await loadDemoTracks(CUTOFF);
    expect(streamSteps).toBe(605);
    expect(anchor).toBe(anchorFor(CUTOFF, 605));
    expect(tracks).toHaveLength(DEMO_SERIES.length);
    for (const track of tracks) {
      expect(track.timestamps.at(-1), track.file).toBe(anchor);
      expect(track.values).toHaveLength(track.timestamps.length);
    }
  });

  it("ends the backfill at the cutoff", async () => {
    const { tracks } = await loadDemoTracks(CUTOFF);
    for (const track of tracks) {
      const last = pointsBetween(track, -Infinity, CUTOFF).at(-1)!;
      expect(last[0], track.file).toBeLessThanOrEqual(CUTOFF);
      expect(last[0], track.file).toBeGreaterThan(CUTOFF - STEP_MS);
    }
  });

  it("uses saved stream steps", async () => {
    const { anchor, streamSteps } = await loadDemoTracks(CUTOFF, {
      streamSteps: 10,
    });
    expect(streamSteps).toBe(10);
    expect(anchor).toBe(CUTOFF + 10 * STEP_MS);
  });

  it("backfills about 85% of a 14-day file", async () => {
    const { tracks } = await loadDemoTracks(CUTOFF);
    const elb = tracks.find((track) => track.name === "elb_request_count")!;
    const backfilled = pointsBetween(elb, -Infinity, CUTOFF).length;
    const share = backfilled / elb.timestamps.length;
    expect(share).toBeGreaterThan(0.84);
    expect(share).toBeLessThan(0.86);
  });

  it("backfills enough history to train every series", async () => {
    const { tracks } = await loadDemoTracks(CUTOFF);
    for (const track of tracks) {
      const backfilled = pointsBetween(track, -Infinity, CUTOFF).length;
      expect(backfilled, track.file).toBeGreaterThanOrEqual(500);
    }
  });
});
