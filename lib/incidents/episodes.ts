import type { Severity } from "@/lib/generated/prisma/enums";

// Anomaly episodes in a sequence of scored points, with no database access.
//
// An episode starts at an alarm: a point the detector pipeline flags as
// anomalous (likelihood at or above the series' alarm threshold). The
// pipeline flags only the first point of an anomaly and keeps quiet for a
// while after it. So the episode goes on while points stay outside the
// expected range (raw score above 1) and their recent errors stay unusual
// for the series (deviation at least EPISODE_HOLD_DEVIATION). It ends once
// EPISODE_QUIET_POINTS consecutive points fail that test and raise no
// alarm: the series has recovered. The deviation test keeps a series that
// became noisier than its model's band from holding an incident open for
// days after the anomaly itself is over.

/** Points back to normal that close an episode: one hour of 5-minute data,
 * so that a short dip inside one disturbance does not split it in two. */
export const EPISODE_QUIET_POINTS = 12;

/** Deviation of the recent raw scores above the series' history that keeps
 * an episode going: below the default alarm's 5, so that an episode does
 * not flicker around the alarm level. */
export const EPISODE_HOLD_DEVIATION = 3;

export type ScoredPoint = {
  ts: Date;
  value: number;
  /** Raw score: forecast error over the model's threshold. */
  score: number;
  /** Anomaly likelihood in [0, 1]. */
  likelihood: number;
  /** Standard deviations of the recent raw scores above the series'
   * history; null or absent while the pipeline warms up. */
  deviation?: number | null;
  isAnomaly: boolean;
  expectedLow: number | null;
  expectedHigh: number | null;
};

/** Episode progress at the end of the points scored so far. */
export type EpisodeState = {
  active: boolean;
  /** Consecutive points back in range since the last anomalous one. */
  quietRun: number;
};

export type Episode = {
  /** True when the episode began before these points. */
  continuesPrevious: boolean;
  onset: ScoredPoint;
  peak: ScoredPoint;
};

/**
 * Change found among scored points: an episode with anomalous points here,
 * or the end of the active episode at `point`, the point that completed the
 * quiet run.
 */
export type EpisodeEvent =
  | { kind: "episode"; episode: Episode }
  | { kind: "recovered"; point: ScoredPoint };

export type EpisodeScan = {
  /** Episodes and recoveries in time order. */
  events: EpisodeEvent[];
  /** The episodes of `events` alone. */
  episodes: Episode[];
  state: EpisodeState;
};

export const IDLE_STATE: EpisodeState = { active: false, quietRun: 0 };

/** Returns whether a point keeps an active episode going. */
function continuesEpisode(point: {
  isAnomaly: boolean;
  score: number;
  deviation?: number | null;
}) {
  if (point.isAnomaly) return true;
  const unusual =
    point.deviation == null || point.deviation >= EPISODE_HOLD_DEVIATION;
  return point.score > 1 && unusual;
}

/**
 * Rebuilds the state from the newest scores, newest first, for a series
 * scored before the worker saved its episode state. Only the first
 * EPISODE_QUIET_POINTS of them matter. NOTE: a point out of range without an
 * alarm counts as part of an episode here, so the rebuilt state may be
 * active where the saved one would not be.
 */
export function episodeStateFromRecent(
  newestFirst: ReadonlyArray<{
    isAnomaly: boolean;
    score: number;
    deviation?: number | null;
  }>,
): EpisodeState {
  const recent = newestFirst.slice(0, EPISODE_QUIET_POINTS);
  const lastAnomaly = recent.findIndex(continuesEpisode);
  if (lastAnomaly === -1) return IDLE_STATE;
  return { active: true, quietRun: lastAnomaly };
}

/** Checks a saved state and returns it, or null when it is malformed. */
export function parseEpisodeState(stored: unknown): EpisodeState | null {
  if (typeof stored !== "object" || stored === null) return null;
  const { active, quietRun } = stored as Record<string, unknown>;
  if (typeof active !== "boolean") return null;
  if (!Number.isInteger(quietRun) || (quietRun as number) < 0) return null;
  return { active, quietRun: quietRun as number };
}

/**
 * Finds the episodes and recoveries among points in time order, given the
 * state before them. An episode carried over from earlier points is reported
 * as an episode only when it has anomalous points here, with its peak among
 * them, and as a recovery when it ends here.
 */
export function findEpisodes(
  points: readonly ScoredPoint[],
  before: EpisodeState,
): EpisodeScan {
  const events: EpisodeEvent[] = [];
  const episodes: Episode[] = [];
  let state = { ...before };
  let current: Episode | undefined;

  for (const point of points) {
    const anomalous = state.active ? continuesEpisode(point) : point.isAnomaly;
    if (anomalous) {
      if (!state.active) {
        current = { continuesPrevious: false, onset: point, peak: point };
        events.push({ kind: "episode", episode: current });
        episodes.push(current);
      } else if (!current) {
        current = { continuesPrevious: true, onset: point, peak: point };
        events.push({ kind: "episode", episode: current });
        episodes.push(current);
      } else if (point.score > current.peak.score) {
        current.peak = point;
      }
      state = { active: true, quietRun: 0 };
      continue;
    }

    if (!state.active) continue;
    state = { active: true, quietRun: state.quietRun + 1 };
    if (state.quietRun >= EPISODE_QUIET_POINTS) {
      events.push({ kind: "recovered", point });
      state = { ...IDLE_STATE };
      current = undefined;
    }
  }
  return { events, episodes, state };
}

/** Maps the peak anomaly score of an episode to a severity. */
export function severityForScore(peakScore: number): Severity {
  if (peakScore >= 4) return "sev1";
  if (peakScore >= 2.5) return "sev2";
  if (peakScore >= 1.5) return "sev3";
  return "sev4";
}

/** Formats a value with up to four significant digits. */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  return Number(value.toPrecision(4)).toString();
}

export function dedupKeyFor(seriesId: number, onset: Date): string {
  return `detector:${seriesId}:${onset.getTime()}`;
}
