import { describe, expect, it } from "vitest";

import {
  dedupKeyFor,
  EPISODE_HOLD_DEVIATION,
  EPISODE_QUIET_POINTS,
  episodeStateFromRecent,
  findEpisodes,
  formatValue,
  IDLE_STATE,
  parseEpisodeState,
  severityForScore,
  type EpisodeEvent,
  type ScoredPoint,
} from "@/lib/incidents/episodes";

// Episode detection over score sequences. The points here are anomalous when
// their score is above 1, so an episode starts at the first score above 1 and
// ends (recovers) after EPISODE_QUIET_POINTS points at or below 1.

const START = Date.parse("2026-01-01T00:00:00Z");

function points(scores: number[]): ScoredPoint[] {
  return scores.map((score, index) => ({
    ts: new Date(START + index * 300_000),
    value: index,
    score,
    likelihood: score / (1 + score),
    isAnomaly: score > 1,
    expectedLow: 0,
    expectedHigh: 1,
  }));
}

const quiet = (count: number) => Array.from({ length: count }, () => 0.2);

/** Summarises events as "episode@<onset value>" or "recovered@<value>". */
function timeline(events: EpisodeEvent[]): string[] {
  return events.map((event) =>
    event.kind === "episode"
      ? `episode@${event.episode.onset.value}`
      : `recovered@${event.point.value}`,
  );
}

describe("findEpisodes", () => {
  it("finds nothing below the threshold", () => {
    const result = findEpisodes(points([0.1, 0.5, 1, 0.9]), IDLE_STATE);

    expect(result.episodes).toEqual([]);
    expect(result.state).toEqual(IDLE_STATE);
  });

  it("starts at the first score above 1", () => {
    const result = findEpisodes(points([0.3, 1.4, 2.5, 1.1, 0.2]), IDLE_STATE);

    expect(result.episodes).toHaveLength(1);
    expect(result.episodes[0]!.onset.value).toBe(1);
    expect(result.episodes[0]!.peak.value).toBe(2);
    expect(result.episodes[0]!.continuesPrevious).toBe(false);
    expect(result.state).toEqual({ active: true, quietRun: 1 });
  });

  it("keeps one episode across a short dip", () => {
    const scores = [2, ...quiet(EPISODE_QUIET_POINTS - 1), 3, ...quiet(2)];

    const result = findEpisodes(points(scores), IDLE_STATE);

    expect(result.episodes).toHaveLength(1);
    expect(result.episodes[0]!.peak.score).toBe(3);
  });

  it("splits episodes after enough quiet points", () => {
    const scores = [2, ...quiet(EPISODE_QUIET_POINTS), 1.5];

    const result = findEpisodes(points(scores), IDLE_STATE);

    expect(result.episodes).toHaveLength(2);
    expect(result.episodes[1]!.onset.value).toBe(EPISODE_QUIET_POINTS + 1);
  });

  it("continues an episode from earlier points", () => {
    const before = { active: true, quietRun: 3 };

    const result = findEpisodes(points([0.5, 1.7, 0.4]), before);

    expect(result.episodes).toHaveLength(1);
    expect(result.episodes[0]!.continuesPrevious).toBe(true);
    expect(result.episodes[0]!.peak.score).toBe(1.7);
  });

  it("ends a carried episode before a new one", () => {
    const before = { active: true, quietRun: EPISODE_QUIET_POINTS - 2 };

    const result = findEpisodes(points([0.5, 0.5, 1.2]), before);

    expect(result.episodes).toHaveLength(1);
    expect(result.episodes[0]!.continuesPrevious).toBe(false);
    expect(result.episodes[0]!.onset.value).toBe(2);
    expect(timeline(result.events)).toEqual(["recovered@1", "episode@2"]);
  });

  it("gives the same episodes in one pass or in chunks", () => {
    const scores = [0.1, 2, 0.3, ...quiet(15), 1.3, 1.8, ...quiet(5), 4, 0.1];
    const whole = findEpisodes(points(scores), IDLE_STATE);

    const all = points(scores);
    const head = findEpisodes(all.slice(0, 10), IDLE_STATE);
    const tail = findEpisodes(all.slice(10), head.state);
    const chunked = [...head.episodes, ...tail.episodes];

    expect(chunked.filter((episode) => !episode.continuesPrevious)).toEqual(
      whole.episodes,
    );
    expect(tail.state).toEqual(whole.state);
  });
});

describe("findEpisodes events", () => {
  it("orders episode, recovery and next episode", () => {
    const scores = [2, 3, ...quiet(EPISODE_QUIET_POINTS), 1.5, 0.2];

    const result = findEpisodes(points(scores), IDLE_STATE);

    const recoveredAt = 1 + EPISODE_QUIET_POINTS;
    expect(timeline(result.events)).toEqual([
      "episode@0",
      `recovered@${recoveredAt}`,
      `episode@${recoveredAt + 1}`,
    ]);
    expect(result.episodes).toHaveLength(2);
    expect(result.events[0]).toEqual({
      kind: "episode",
      episode: result.episodes[0],
    });
    expect(result.events[2]).toEqual({
      kind: "episode",
      episode: result.episodes[1],
    });
    expect(result.episodes[0]!.peak.score).toBe(3);
    expect(result.state).toEqual({ active: true, quietRun: 1 });
  });

  it("reports the point completing the quiet run", () => {
    const all = points([2, ...quiet(EPISODE_QUIET_POINTS + 3)]);

    const result = findEpisodes(all, IDLE_STATE);

    const recovered = result.events[1];
    expect(recovered?.kind).toBe("recovered");
    expect(recovered).toEqual({
      kind: "recovered",
      point: all[EPISODE_QUIET_POINTS],
    });
    expect(result.events).toHaveLength(2);
    expect(result.state).toEqual(IDLE_STATE);
  });

  it("recovers a carried episode", () => {
    const before = { active: true, quietRun: EPISODE_QUIET_POINTS - 3 };

    const result = findEpisodes(points(quiet(5)), before);

    expect(timeline(result.events)).toEqual(["recovered@2"]);
    expect(result.episodes).toEqual([]);
    expect(result.state).toEqual(IDLE_STATE);
  });

  it("recovers a carried episode after new anomalies", () => {
    const before = { active: true, quietRun: 4 };
    const scores = [0.5, 1.7, ...quiet(EPISODE_QUIET_POINTS)];

    const result = findEpisodes(points(scores), before);

    expect(timeline(result.events)).toEqual([
      "episode@1",
      `recovered@${1 + EPISODE_QUIET_POINTS}`,
    ]);
    expect(result.episodes[0]!.continuesPrevious).toBe(true);
  });

  it("does not recover before the quiet run completes", () => {
    const scores = [2, ...quiet(EPISODE_QUIET_POINTS - 1)];

    const fresh = findEpisodes(points(scores), IDLE_STATE);
    const carried = findEpisodes(points(quiet(EPISODE_QUIET_POINTS - 1)), {
      active: true,
      quietRun: 0,
    });

    expect(timeline(fresh.events)).toEqual(["episode@0"]);
    expect(fresh.state).toEqual({
      active: true,
      quietRun: EPISODE_QUIET_POINTS - 1,
    });
    expect(carried.events).toEqual([]);
    expect(carried.state).toEqual({
      active: true,
      quietRun: EPISODE_QUIET_POINTS - 1,
    });
  });

  it("reports no recovery while idle", () => {
    const result = findEpisodes(points(quiet(30)), IDLE_STATE);

    expect(result.events).toEqual([]);
  });

  it("gives the same events at every chunk split", () => {
    const scores = [
      0.1,
      2,
      0.3,
      ...quiet(15),
      1.3,
      1.8,
      ...quiet(5),
      4,
      ...quiet(EPISODE_QUIET_POINTS),
      2.2,
      0.1,
    ];
    const all = points(scores);
    const whole = findEpisodes(all, IDLE_STATE);
    expect(timeline(whole.events)).toEqual([
      "episode@1",
      "recovered@13",
      "episode@18",
      "recovered@37",
      "episode@38",
    ]);

    for (let split = 0; split <= all.length; split += 1) {
      const head = findEpisodes(all.slice(0, split), IDLE_STATE);
      const tail = findEpisodes(all.slice(split), head.state);
      const chunked = [...head.events, ...tail.events].filter(
        (event) => event.kind !== "episode" || !event.episode.continuesPrevious,
      );

      expect(timeline(chunked), `split at ${split}`).toEqual(
        timeline(whole.events),
      );
      expect(tail.state, `split at ${split}`).toEqual(whole.state);
    }
  });
});

describe("episodeStateFromRecent", () => {
  it("is idle with no anomalous point", () => {
    const recent = Array.from({ length: 20 }, () => ({
      isAnomaly: false,
      score: 0.5,
    }));

    expect(episodeStateFromRecent(recent)).toEqual(IDLE_STATE);
    expect(episodeStateFromRecent([])).toEqual(IDLE_STATE);
  });

  it("counts quiet points since the last anomaly", () => {
    const recent = [false, false, true, false].map((isAnomaly) => ({
      isAnomaly,
      score: 0.5,
    }));

    expect(episodeStateFromRecent(recent)).toEqual({
      active: true,
      quietRun: 2,
    });
  });

  it("is idle once the quiet run is complete", () => {
    const recent = [
      ...Array.from({ length: EPISODE_QUIET_POINTS }, () => ({
        isAnomaly: false,
        score: 0.5,
      })),
      { isAnomaly: true, score: 3 },
    ];

    expect(episodeStateFromRecent(recent)).toEqual(IDLE_STATE);
  });

  it("counts a point out of range as anomalous", () => {
    const recent = [
      { isAnomaly: false, score: 0.5 },
      { isAnomaly: false, score: 1.5 },
      { isAnomaly: true, score: 3 },
    ];

    expect(episodeStateFromRecent(recent)).toEqual({
      active: true,
      quietRun: 1,
    });
  });
});

describe("findEpisodes after a single alarm", () => {
  // The pipeline flags only an anomaly's first point, so these points carry
  // their own isAnomaly instead of score > 1.
  function alarmed(scores: number[], alarmAt: number): ScoredPoint[] {
    return points(scores).map((point, index) => ({
      ...point,
      isAnomaly: index === alarmAt,
    }));
  }

  it("goes on while points stay out of range", () => {
    const scores = [0.2, 3, 2, 1.5, 2, ...quiet(EPISODE_QUIET_POINTS)];

    const result = findEpisodes(alarmed(scores, 1), IDLE_STATE);

    expect(timeline(result.events)).toEqual([
      "episode@1",
      `recovered@${4 + EPISODE_QUIET_POINTS}`,
    ]);
    expect(result.episodes[0]!.peak.value).toBe(1);
  });

  it("ends when the errors are usual again", () => {
    // Out of range (score above 1) but with a deviation below the hold
    // level, as when a series stays noisier than its model's band.
    const scores = [0.2, 3, ...Array.from({ length: EPISODE_QUIET_POINTS }, () => 2)];
    const withDeviation = alarmed(scores, 1).map((point, index) => ({
      ...point,
      deviation: index <= 1 ? 8 : EPISODE_HOLD_DEVIATION - 0.5,
    }));

    const result = findEpisodes(withDeviation, IDLE_STATE);

    expect(timeline(result.events)).toEqual([
      "episode@1",
      `recovered@${1 + EPISODE_QUIET_POINTS}`,
    ]);
  });

  it("holds while the errors stay unusual", () => {
    const scores = [0.2, 3, ...Array.from({ length: EPISODE_QUIET_POINTS }, () => 2)];
    const withDeviation = alarmed(scores, 1).map((point) => ({
      ...point,
      deviation: EPISODE_HOLD_DEVIATION,
    }));

    const result = findEpisodes(withDeviation, IDLE_STATE);

    expect(timeline(result.events)).toEqual(["episode@1"]);
    expect(result.state).toEqual({ active: true, quietRun: 0 });
  });

  it("needs an alarm to start", () => {
    const scores = [0.2, 3, 2, ...quiet(3)];

    const result = findEpisodes(alarmed(scores, -1), IDLE_STATE);

    expect(result.events).toEqual([]);
    expect(result.state).toEqual(IDLE_STATE);
  });
});

describe("parseEpisodeState", () => {
  it("accepts a saved state", () => {
    expect(parseEpisodeState({ active: true, quietRun: 3 })).toEqual({
      active: true,
      quietRun: 3,
    });
    expect(parseEpisodeState(IDLE_STATE)).toEqual(IDLE_STATE);
  });

  it.each([
    null,
    "idle",
    {},
    { active: "yes", quietRun: 0 },
    { active: true, quietRun: -1 },
    { active: true, quietRun: 1.5 },
  ])("rejects %j", (stored) => {
    expect(parseEpisodeState(stored)).toBeNull();
  });
});

describe("incident helpers", () => {
  it.each([
    [1.01, "sev4"],
    [1.5, "sev3"],
    [2.5, "sev2"],
    [4, "sev1"],
    [40, "sev1"],
  ] as const)("maps peak score %d to %s", (score, severity) => {
    expect(severityForScore(score)).toBe(severity);
  });

  it("formats values with four significant digits", () => {
    expect(formatValue(12345678)).toBe("12350000");
    expect(formatValue(0.000123456)).toBe("0.0001235");
    expect(formatValue(null)).toBe("n/a");
    expect(formatValue(Number.POSITIVE_INFINITY)).toBe("n/a");
  });

  it("builds the dedup key from series and onset", () => {
    const onset = new Date("2026-02-03T04:05:00Z");

    expect(dedupKeyFor(42, onset)).toBe(`detector:42:${onset.getTime()}`);
  });
});
