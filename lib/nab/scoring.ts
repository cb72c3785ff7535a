import type { NabProfile } from "@/lib/nab/dataset";

// The Numenta Anomaly Benchmark (NAB) score of a detector, computed the way
// NAB's own scorer (nab/sweeper.py) computes it:
// - Probation: the first min(floor(0.15 n), 750) rows of each file are not scored.
// - A row is a detection when its anomaly score is >= the threshold T.
// - A window's earliest detection earns tpWeight * S(x) / S(-1), with
//   x = -(end - i + 1) / width and S(x) = 2 / (1 + e^(5x)) - 1. A window with
//   no detection costs -fnWeight.
// - A detection outside every window costs fpWeight * S(d / (w - 1)), where d
//   is the distance in rows from the end of the previous window and w is that
//   window's width, and S is -1 once d / (w - 1) > 3. With no previous window
//   in the file it costs -fpWeight.
// - T is swept over every distinct score plus "no detections" over all given
//   files together, keeping the best raw score and, on a tie, the higher T.
// - normalized = 100 * (raw - null) / (perfect - null), where null is the raw
//   score with no detections and perfect is tpWeight per window.

export type ScoredFile = {
  category: string;
  name: string;
  /** One anomaly score per data row, in file order. */
  scores: number[];
  /** Row-index ranges of the anomaly windows, inclusive, sorted, not overlapping. */
  windows: [number, number][];
};

export type NabScore = {
  /**
   * 100 * (raw - nullScore) / (perfectScore - nullScore), or null when the
   * files have no windows.
   */
  normalized: number | null;
  raw: number;
  /** Raw score with no detections: -fnWeight per window that has scored rows. */
  nullScore: number;
  /** tpWeight per window. */
  perfectScore: number;
  /** The threshold used, or null when "no detections" scored best. */
  threshold: number | null;
  /** Windows with at least one detection. */
  truePositives: number;
  /** Detections outside every window, probation rows excluded. */
  falsePositives: number;
  /**
   * Windows that have scored rows but no detection. A window that lies wholly
   * in the probation period counts neither here nor in truePositives.
   */
  falseNegatives: number;
};

/** Scored rows of one or more files, flattened for the threshold sweep. */
type PreparedRows = {
  /** Anomaly score of each scored (post-probation) row. */
  scores: Float64Array;
  /** Index into the window list of each scored row, or -1 outside windows. */
  windowIds: Int32Array;
  /** Row's contribution when it is the detection that counts (NAB's sweepScore). */
  sweepScores: Float64Array;
  /** Number of windows over all files. */
  windowCount: number;
  /** Whether each window has at least one scored row. */
  windowScored: Uint8Array;
};

/** Probation rows cap: NAB uses 15% of 5000 rows. */
const MAX_PROBATION_ROWS = 0.15 * 5000;

/** Returns the number of leading rows NAB leaves unscored in a file. */
export function probationRows(rowCount: number): number {
  return Math.min(Math.floor(0.15 * rowCount), MAX_PROBATION_ROWS);
}

/**
 * Computes NAB's scaled sigmoid S(x) = 2 / (1 + e^(5x)) - 1, which is -1 for
 * x > 3. S(-1) is about 0.9866 and S(0) is 0.
 */
export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  return 2 * (1 / (1 + Math.exp(5 * position))) - 1;
}

const MAX_TP = scaledSigmoid(-1);

function fileKey(file: ScoredFile): string {
  return `${file.category}/${file.name}`;
}

function validateFile(file: ScoredFile): void {
  const key = fileKey(file);
  const rowCount = file.scores.length;
  file.scores.forEach((score, row) => {
    if (typeof score !== "number" || Number.isNaN(score)) {
      throw new Error(`${key}: score of row ${row} is ${score}, not a number`);
    }
  });

  let previousEnd = -1;
  file.windows.forEach(([start, end], index) => {
    const valid =
      Number.isInteger(start) &&
      Number.isInteger(end) &&
      start > previousEnd &&
      start <= end &&
      end < rowCount;
    if (!valid) {
      throw new Error(
        `${key}: window ${index} [${start}, ${end}] is invalid. Windows must be sorted, non-overlapping row ranges within 0..${rowCount - 1}`,
      );
    }
    previousEnd = end;
  });
}

/**
 * Computes every scored row's sweep score for one profile, numbering the
 * windows of all files in one list.
 */
function prepareRows(files: readonly ScoredFile[], profile: NabProfile): PreparedRows {
  let scoredRowCount = 0;
  let windowCount = 0;
  for (const file of files) {
    validateFile(file);
    scoredRowCount += file.scores.length - probationRows(file.scores.length);
    windowCount += file.windows.length;
  }

  const scores = new Float64Array(scoredRowCount);
  const windowIds = new Int32Array(scoredRowCount);
  const sweepScores = new Float64Array(scoredRowCount);
  const windowScored = new Uint8Array(windowCount);

  let out = 0;
  let firstWindowId = 0;
  for (const file of files) {
    const rowCount = file.scores.length;
    const probation = probationRows(rowCount);
    let next = 0; // first window that has not ended before row i
    let previousEnd = -1;
    let previousWidth = 0;

    for (let i = 0; i < rowCount; i += 1) {
      while (next < file.windows.length && file.windows[next]![1] < i) {
        previousEnd = file.windows[next]![1];
        previousWidth = file.windows[next]![1] - file.windows[next]![0] + 1;
        next += 1;
      }
      if (i < probation) continue;

      const window = file.windows[next];
      let windowId = -1;
      let sweepScore: number;
      if (window !== undefined && window[0] <= i) {
        const [, end] = window;
        const width = end - window[0] + 1;
        windowId = firstWindowId + next;
        windowScored[windowId] = 1;
        const position = -(end - i + 1) / width;
        sweepScore = (scaledSigmoid(position) * profile.tpWeight) / MAX_TP;
      } else if (previousEnd < 0) {
        sweepScore = -1 * profile.fpWeight;
      } else {
        // NOTE: a one-row window gives d / 0 = Infinity here, so S = -1.
        // NAB itself raises ZeroDivisionError on such a window.
        const position = (i - previousEnd) / (previousWidth - 1);
        sweepScore = scaledSigmoid(position) * profile.fpWeight;
      }

      scores[out] = file.scores[i]!;
      windowIds[out] = windowId;
      sweepScores[out] = sweepScore;
      out += 1;
    }
    firstWindowId += file.windows.length;
  }

  return { scores, windowIds, sweepScores, windowCount, windowScored };
}

function countScoredWindows(rows: PreparedRows): number {
  let count = 0;
  for (const scored of rows.windowScored) count += scored;
  return count;
}

/**
 * Finds the threshold with the best raw score: "no detections" first, then
 * every distinct score from the highest down. Rows are sorted once and each
 * lower threshold only adds the rows with that score, so the sweep is
 * O(n log n). Returns null when "no detections" is best.
 */
function sweepThreshold(rows: PreparedRows, profile: NabProfile): number | null {
  const rowCount = rows.scores.length;
  const order = new Int32Array(rowCount);
  for (let i = 0; i < rowCount; i += 1) order[i] = i;
  // Highest score first. Compares rather than subtracts, because
  // Infinity - Infinity is NaN.
  order.sort((a, b) => {
    const scoreA = rows.scores[a]!;
    const scoreB = rows.scores[b]!;
    if (scoreA > scoreB) return -1;
    return scoreA < scoreB ? 1 : 0;
  });

  // Each window's current contribution: -fnWeight until its first detection,
  // then the best sweep score among its detections.
  const windowParts = new Float64Array(rows.windowCount).fill(-profile.fnWeight);
  let windowTotal = -profile.fnWeight * countScoredWindows(rows);
  let falsePositiveTotal = 0;

  let bestRaw = windowTotal;
  let bestThreshold: number | null = null;

  let k = 0;
  while (k < rowCount) {
    const threshold = rows.scores[order[k]!]!;
    for (; k < rowCount && rows.scores[order[k]!] === threshold; k += 1) {
      const row = order[k]!;
      const windowId = rows.windowIds[row]!;
      const sweepScore = rows.sweepScores[row]!;
      if (windowId < 0) {
        falsePositiveTotal += sweepScore;
      } else if (sweepScore > windowParts[windowId]!) {
        windowTotal += sweepScore - windowParts[windowId]!;
        windowParts[windowId] = sweepScore;
      }
    }
    // Strictly greater, so that a tie keeps the higher threshold.
    const raw = falsePositiveTotal + windowTotal;
    if (raw > bestRaw) {
      bestRaw = raw;
      bestThreshold = threshold;
    }
  }
  return bestThreshold;
}

/** Computes the raw score and counts at one threshold, null meaning no detections. */
function evaluateThreshold(
  rows: PreparedRows,
  profile: NabProfile,
  threshold: number | null,
): Pick<NabScore, "raw" | "truePositives" | "falsePositives" | "falseNegatives"> {
  const windowParts = new Float64Array(rows.windowCount);
  const detected = new Uint8Array(rows.windowCount);
  let falsePositiveTotal = 0;
  let falsePositives = 0;

  if (threshold !== null) {
    for (let row = 0; row < rows.scores.length; row += 1) {
      if (!(rows.scores[row]! >= threshold)) continue;
      const windowId = rows.windowIds[row]!;
      const sweepScore = rows.sweepScores[row]!;
      if (windowId < 0) {
        falsePositiveTotal += sweepScore;
        falsePositives += 1;
      } else if (!detected[windowId] || sweepScore > windowParts[windowId]!) {
        detected[windowId] = 1;
        windowParts[windowId] = sweepScore;
      }
    }
  }

  let raw = falsePositiveTotal;
  let truePositives = 0;
  let falseNegatives = 0;
  for (let windowId = 0; windowId < rows.windowCount; windowId += 1) {
    if (detected[windowId]) {
      raw += windowParts[windowId]!;
      truePositives += 1;
    } else if (rows.windowScored[windowId]) {
      raw -= profile.fnWeight;
      falseNegatives += 1;
    }
  }
  return { raw, truePositives, falsePositives, falseNegatives };
}

/**
 * Scores a detector's output on a set of files under one cost profile.
 *
 * Without `options.threshold`, sweeps the threshold over every distinct score
 * of the scored rows of all files together, plus "no detections", and keeps
 * the best raw score (the higher threshold on a tie). With it, a row is a
 * detection when its score is >= that threshold.
 *
 * @throws Error when a score is NaN or a window is not a valid row range.
 */
export function scoreDetector(
  files: ScoredFile[],
  profile: NabProfile,
  options: { threshold?: number } = {},
): NabScore {
  const rows = prepareRows(files, profile);
  const threshold =
    options.threshold !== undefined
      ? options.threshold
      : sweepThreshold(rows, profile);
  const result = evaluateThreshold(rows, profile, threshold);

  const nullScore = -profile.fnWeight * countScoredWindows(rows);
  const perfectScore = profile.tpWeight * rows.windowCount;
  const range = perfectScore - nullScore;
  const normalized =
    rows.windowCount === 0 || range === 0
      ? null
      : (100 * (result.raw - nullScore)) / range;

  return { normalized, nullScore, perfectScore, threshold, ...result };
}

/**
 * Scores a detector under each profile, over all files and per category.
 * Each category gets its own threshold sweep, null and perfect score, as NAB
 * does when only some categories are selected. With `options.threshold`,
 * every selection uses that threshold instead of a sweep. Profiles keep the
 * order of `profiles`, categories the order of their first file.
 */
export function scoreByCategory(
  files: ScoredFile[],
  profiles: Record<string, NabProfile>,
  options: { threshold?: number } = {},
): { profile: string; overall: NabScore; categories: Record<string, NabScore> }[] {
  const byCategory = new Map<string, ScoredFile[]>();
  for (const file of files) {
    const group = byCategory.get(file.category);
    if (group) group.push(file);
    else byCategory.set(file.category, [file]);
  }

  return Object.entries(profiles).map(([name, profile]) => {
    const categories: Record<string, NabScore> = {};
    for (const [category, group] of byCategory) {
      categories[category] = scoreDetector(group, profile, options);
    }
    return {
      profile: name,
      overall: scoreDetector(files, profile, options),
      categories,
    };
  });
}
