import type pg from "pg";

// Synthetic series for the model lifecycle tests: a seeded sine with noise,
// optionally shifted or replaced by noise in a range, at 5-minute steps
// ending at the current 5-minute boundary.

export const STEP_MS = 5 * 60 * 1000;

export type Point = { ts: Date; value: number };

/** Mulberry32, a small seeded generator with uniform output in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal values from a seeded generator (Box-Muller). */
function normalNoise(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export type SeriesShape = {
  count: number;
  seed?: number;
  /** Sine period in points. */
  period?: number;
  noise?: number;
  /** Adds `level` to the values from index `from` on. */
  shift?: { from: number; level: number };
  /** Replaces values in [from, to) by noise of standard deviation `scale`
   * around 50. */
  chaos?: { from: number; to: number; scale: number };
};

/** Returns the values of a sine around 50 with amplitude 10. */
export function syntheticValues(shape: SeriesShape): number[] {
  const random = seededRandom(shape.seed ?? 7);
  const period = shape.period ?? 96;
  const noise = shape.noise ?? 0.5;
  const values: number[] = [];
  for (let index = 0; index < shape.count; index += 1) {
    let value =
      50 + 10 * Math.sin((2 * Math.PI * index) / period) + noise * normalNoise(random);
    if (shape.shift && index >= shape.shift.from) value += shape.shift.level;
    if (shape.chaos && index >= shape.chaos.from && index < shape.chaos.to) {
      value = 50 + shape.chaos.scale * normalNoise(random);
    }
    values.push(value);
  }
  return values;
}

/** Stamps values at 5-minute steps, the last one `endOffset` steps before
 * the current 5-minute boundary. */
export function toPoints(values: readonly number[], endOffset = 0): Point[] {
  const end = Math.floor(Date.now() / STEP_MS) * STEP_MS - endOffset * STEP_MS;
  const start = end - (values.length - 1) * STEP_MS;
  return values.map((value, index) => ({
    ts: new Date(start + index * STEP_MS),
    value,
  }));
}

/** Creates a service (if missing) and a series of it, returns the series id. */
export async function createSeries(
  db: Pick<pg.ClientBase, "query">,
  name: string,
  serviceSlug = "checkout",
): Promise<number> {
  const service = await db.query<{ id: number }>(
    `INSERT INTO service (slug, name) VALUES ($1, $1)
     ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
     RETURNING id`,
    [serviceSlug],
  );
  const created = await db.query<{ id: number }>(
    `INSERT INTO metric_series (service_id, name, labels, labels_key)
     VALUES ($1, $2, '{}'::jsonb, '{}') RETURNING id`,
    [service.rows[0]!.id, name],
  );
  return created.rows[0]!.id;
}

/** Inserts points. A point whose (series, ts) exists keeps its old value. */
export async function insertPoints(
  db: Pick<pg.ClientBase, "query">,
  seriesId: number,
  points: readonly Point[],
): Promise<void> {
  await db.query(
    `INSERT INTO data_point (series_id, ts, value)
     SELECT $1, p.ts, p.value
       FROM unnest($2::timestamptz[], $3::float8[]) AS p(ts, value)
     ON CONFLICT DO NOTHING`,
    [seriesId, points.map((point) => point.ts), points.map((point) => point.value)],
  );
}
