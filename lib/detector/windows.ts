// Sliding windows over a normalised series, packed row by row into one
// Float32Array so that a batch becomes one tensor in a single call.

/**
 * Packs the windows of `size` values that end at each index in `ends`
 * (inclusive). Every end must be at least size - 1.
 */
export function packWindows(
  units: Float32Array,
  size: number,
  ends: readonly number[],
): Float32Array {
  const packed = new Float32Array(ends.length * size);
  ends.forEach((end, row) => {
    const start = end - size + 1;
    if (start < 0 || end >= units.length) {
      throw new RangeError(
        `window ending at ${end} does not fit a series of ${units.length} points`,
      );
    }
    packed.set(units.subarray(start, end + 1), row * size);
  });
  return packed;
}

/** Returns the integers from `from` (inclusive) to `to` (exclusive). */
export function range(from: number, to: number): number[] {
  const result: number[] = [];
  for (let index = from; index < to; index += 1) result.push(index);
  return result;
}

/** Returns a seeded pseudo-random generator (mulberry32) in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles a copy of `items` with a seeded Fisher-Yates shuffle. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const result = [...items];
  for (let index = result.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

/**
 * Packs the network inputs of each target index, row by row: the
 * `windowSize` values before the target, then, when `seasonLag` > 0, the
 * 2 * seasonHalfWidth + 1 values centred one season before it. Every
 * target must have that many values before it.
 */
export function packInputs(
  units: Float32Array,
  shape: { windowSize: number; seasonLag: number; seasonHalfWidth: number },
  targets: readonly number[],
): Float32Array {
  const recent = packWindows(
    units,
    shape.windowSize,
    targets.map((target) => target - 1),
  );
  if (shape.seasonLag <= 0) return recent;

  const seasonal = 2 * shape.seasonHalfWidth + 1;
  const width = shape.windowSize + seasonal;
  const season = packWindows(
    units,
    seasonal,
    targets.map((target) => target - shape.seasonLag + shape.seasonHalfWidth),
  );
  const packed = new Float32Array(targets.length * width);
  for (let row = 0; row < targets.length; row += 1) {
    packed.set(
      recent.subarray(row * shape.windowSize, (row + 1) * shape.windowSize),
      row * width,
    );
    packed.set(
      season.subarray(row * seasonal, (row + 1) * seasonal),
      row * width + shape.windowSize,
    );
  }
  return packed;
}
