// Robust normalisation of a series for the detector. CloudWatch-style
// metrics are spiky, so the centre and scale are the median and the scaled
// median absolute deviation (MAD) instead of mean and standard deviation.
// Values far from the centre are compressed with a scaled asinh, so that one
// huge spike cannot dominate training.

export type Normalization = {
  /** Median of the training values, in the series' units. */
  center: number;
  /** Robust standard deviation (1.4826 * MAD, floored), in series' units. */
  scale: number;
  /** Width, in scale units, of the linear part of the asinh compression. */
  knee: number;
  /** Mean and standard deviation of the training values, for display. */
  mean: number;
  std: number;
  /** True when no training value was negative (counts, bytes, percent):
   * expected ranges are then clipped at 0. */
  nonNegative: boolean;
};

// 1.4826 * MAD estimates the standard deviation of normally distributed data.
const MAD_TO_STD = 1.4826;
const DEFAULT_KNEE = 3;

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const lowerValue = sorted[lower]!;
  const upperValue = sorted[upper]!;
  return lowerValue + (upperValue - lowerValue) * (position - lower);
}

function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/** Fits the normalisation to training values. */
export function fitNormalization(values: readonly number[]): Normalization {
  if (values.length === 0) {
    throw new Error("cannot fit a normalisation to an empty series");
  }
  const center = median(values);
  const mad = median(values.map((value) => Math.abs(value - center)));
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance =
    values.reduce((sum, value) => sum + (value - mean) ** 2, 0) /
    values.length;
  const std = Math.sqrt(variance);

  // A series that sits on one value most of the time has MAD 0. The floors
  // keep the scale positive: a tenth of the standard deviation when the
  // series moves at all, else a millionth of its magnitude.
  const scale = Math.max(
    MAD_TO_STD * mad,
    0.1 * std,
    1e-6 * Math.max(1, Math.abs(center)),
  );
  const nonNegative = values.every((value) => value >= 0);
  return { center, scale, knee: DEFAULT_KNEE, mean, std, nonNegative };
}

/** Maps a value in series units to the model's normalised units. */
export function normalizeValue(value: number, norm: Normalization): number {
  const z = (value - norm.center) / norm.scale;
  return norm.knee * Math.asinh(z / norm.knee);
}

/** Maps a normalised value back to series units. */
export function denormalizeValue(unit: number, norm: Normalization): number {
  const value =
    norm.center + norm.scale * norm.knee * Math.sinh(unit / norm.knee);
  return norm.nonNegative ? Math.max(0, value) : value;
}
