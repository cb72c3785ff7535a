// Anomaly likelihood: how unusual a series' recent scores are against its
// own history of scores. A raw score (forecast error over the model's
// threshold) means different things for a quiet series and a noisy one.
// So the mean of the last few scores is compared with the mean and spread of
// that mean over the series' past, as a number of standard deviations (z).
// A noisy series whose errors are always high then gets a lower z, and a
// quiet series gets a high z at a smaller error. Every z depends only on the
// scores up to its own point, so scoring stays strictly online.

export type LikelihoodParams = {
  /** Raw scores averaged into the short-term value. */
  averageSpan: number;
  /** Past short-term averages that make up the history. */
  historyPoints: number;
  /** History needed before any z is given. */
  minHistory: number;
  /** Smallest standard deviation used, in raw score units. */
  minDeviation: number;
};

export const LIKELIHOOD_PARAMS: LikelihoodParams = {
  averageSpan: 12,
  historyPoints: 2016,
  minHistory: 100,
  minDeviation: 0.05,
};

/** Ring buffer of numbers with a running sum and sum of squares. */
class RollingStats {
  private readonly values: Float64Array;
  private start = 0;
  private count = 0;
  private sum = 0;
  private sumOfSquares = 0;

  constructor(private readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(value: number): void {
    if (this.count === this.capacity) {
      const dropped = this.values[this.start]!;
      this.sum -= dropped;
      this.sumOfSquares -= dropped * dropped;
      this.values[this.start] = value;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.values[(this.start + this.count) % this.capacity] = value;
      this.count += 1;
    }
    this.sum += value;
    this.sumOfSquares += value * value;
  }

  mean(): number {
    return this.sum / this.count;
  }

  deviation(): number {
    const mean = this.mean();
    return Math.sqrt(Math.max(0, this.sumOfSquares / this.count - mean * mean));
  }
}

/** Follows one series' raw scores in time order and gives each point's z. */
export class LikelihoodTracker {
  private readonly recent: number[] = [];
  private readonly history: RollingStats;

  constructor(private readonly params: LikelihoodParams = LIKELIHOOD_PARAMS) {
    this.history = new RollingStats(params.historyPoints);
  }

  /**
   * Adds the next raw score and returns its z against the history before
   * it, or null while the history is shorter than minHistory.
   */
  push(score: number): number | null {
    this.recent.push(score);
    if (this.recent.length > this.params.averageSpan) this.recent.shift();
    let total = 0;
    for (const value of this.recent) total += value;
    const average = total / this.recent.length;

    let z: number | null = null;
    if (this.history.size >= this.params.minHistory) {
      const deviation = Math.max(
        this.history.deviation(),
        this.params.minDeviation,
      );
      z = (average - this.history.mean()) / deviation;
    }
    this.history.push(average);
    return z;
  }
}

/**
 * Returns the z of each of `scores`, after feeding `previous` (the scores
 * just before them, oldest first) to warm the history.
 */
export function scoreDeviations(
  scores: readonly number[],
  previous: readonly number[] = [],
  params: LikelihoodParams = LIKELIHOOD_PARAMS,
): (number | null)[] {
  const tracker = new LikelihoodTracker(params);
  for (const score of previous) tracker.push(score);
  return scores.map((score) => tracker.push(score));
}
