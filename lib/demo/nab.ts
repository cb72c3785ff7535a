import { readFile } from "node:fs/promises";
import path from "node:path";

// Readers for the Numenta Anomaly Benchmark (NAB) files in data/nab. NAB
// timestamps carry no time zone, so the demo treats them as UTC.

export const NAB_DIR = path.resolve(process.cwd(), "data/nab");

/** One NAB series: timestamps in epoch milliseconds and their values. */
export type NabSeries = {
  file: string;
  timestamps: number[];
  values: number[];
};

/** A labelled anomaly window, inclusive at both ends, in epoch ms. */
export type AnomalyWindow = { start: number; end: number };

const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/;

/** Parses a NAB timestamp such as "2014-04-10 00:04:00" as UTC epoch ms. */
export function parseNabTimestamp(text: string): number {
  const match = TIMESTAMP_PATTERN.exec(text.trim());
  if (!match) {
    throw new Error(
      `invalid NAB timestamp "${text}": expected YYYY-MM-DD HH:MM:SS`,
    );
  }
  const [year, month, day, hour, minute, second] = match
    .slice(1)
    .map(Number) as [number, number, number, number, number, number];
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/**
 * Parses a NAB CSV file (header "timestamp,value", one row per point).
 * Rows keep their file order, including NAB's duplicate timestamps.
 */
export function parseNabCsv(text: string, file = "<csv>"): NabSeries {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const header = lines.shift()?.trim();
  if (header !== "timestamp,value") {
    throw new Error(
      `${file}: invalid header "${header ?? ""}", expected "timestamp,value"`,
    );
  }

  const timestamps: number[] = [];
  const values: number[] = [];
  lines.forEach((line, index) => {
    const row = index + 2;
    const [timestamp, value, extra] = line.split(",");
    if (timestamp === undefined || value === undefined || extra !== undefined) {
      throw new Error(`${file} line ${row}: expected two columns`);
    }
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) {
      throw new Error(`${file} line ${row}: value "${value}" is not a number`);
    }
    try {
      timestamps.push(parseNabTimestamp(timestamp));
    } catch (error) {
      throw new Error(`${file} line ${row}: ${(error as Error).message}`);
    }
    values.push(number);
  });

  if (timestamps.length === 0) throw new Error(`${file}: no data rows`);
  return { file, timestamps, values };
}

/** Reads data/nab/<file>, for example "realAWSCloudwatch/x.csv". */
export async function readNabSeries(
  file: string,
  nabDir = NAB_DIR,
): Promise<NabSeries> {
  const text = await readFile(path.join(nabDir, file), "utf8");
  return parseNabCsv(text, file);
}

/**
 * Reads labels/combined_windows.json: a map from "<category>/<file>.csv" to
 * its labelled anomaly windows.
 */
export async function readAnomalyWindows(
  nabDir = NAB_DIR,
): Promise<Map<string, AnomalyWindow[]>> {
  const file = path.join(nabDir, "labels/combined_windows.json");
  const parsed = JSON.parse(await readFile(file, "utf8")) as Record<
    string,
    [string, string][]
  >;
  const windows = new Map<string, AnomalyWindow[]>();
  for (const [key, pairs] of Object.entries(parsed)) {
    windows.set(
      key,
      pairs.map(([start, end]) => ({
        start: parseNabTimestamp(start),
        end: parseNabTimestamp(end),
      })),
    );
  }
  return windows;
}
