import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

// Loads a folder in the Numenta Anomaly Benchmark (NAB) layout for scoring:
//   data/<category>/<file>.csv        header "timestamp,value", one row per point
//   labels/combined_windows.json      { "<category>/<file>.csv": [[start, end], ...] }
//   config/profiles.json              { "<profile>": { "CostMatrix": { ... } } }
// NAB scores rows by position, so rows keep their file order, duplicate
// timestamps included, and each label window becomes a range of row indices.

export type NabRow = {
  /** The timestamp text exactly as written in the CSV. */
  timestamp: string;
  value: number;
};

export type NabFile = {
  /** Folder under data/, for example "realAWSCloudwatch". */
  category: string;
  /** File name, for example "ec2_cpu_utilization_5f5533.csv". */
  name: string;
  /** Rows in file order. */
  rows: NabRow[];
  /** Row-index ranges of the anomaly windows, inclusive at both ends, sorted. */
  windows: [number, number][];
};

/** Weights of a NAB cost profile. NAB's tnWeight is not used in scoring. */
export type NabProfile = { tpWeight: number; fnWeight: number; fpWeight: number };

/** NAB's three cost profiles, as in NAB's config/profiles.json. */
export const STANDARD_NAB_PROFILES: Record<string, NabProfile> = {
  standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
};

const WINDOWS_PATH = "labels/combined_windows.json";
const PROFILES_PATH = "config/profiles.json";
const CSV_HEADER = "timestamp,value";

// Data rows use "YYYY-MM-DD HH:MM:SS" and label windows add ".ffffff".
const TIMESTAMP_PATTERN =
  /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/;

/**
 * Returns the timestamp in a form where "2014-04-10 07:15:00.000000" and
 * "2014-04-10 07:15:00" are equal, as they are for NAB, or null when the text
 * is not a NAB timestamp.
 */
function canonicalTimestamp(text: string): string | null {
  const match = TIMESTAMP_PATTERN.exec(text);
  if (!match) return null;
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  return fraction === "" ? match[1]! : `${match[1]}.${fraction}`;
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/**
 * Parses one NAB series file. `file` is the path shown in errors, and line
 * numbers count the header as line 1.
 */
export function parseNabRows(text: string, file: string): NabRow[] {
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  const header = lines[0]!.replace(/\r$/, "").trim();
  if (header !== CSV_HEADER) {
    throw new Error(
      `${file} line 1: invalid header "${header}", expected "${CSV_HEADER}"`,
    );
  }

  const rows: NabRow[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index]!.replace(/\r$/, "");
    const lineNumber = index + 1;
    if (line.trim() === "") {
      // Only the end of the file may be blank, because a blank line in the
      // middle would shift every later row against the labels.
      if (lines.slice(index + 1).every((rest) => rest.trim() === "")) break;
      throw new Error(`${file} line ${lineNumber}: empty line between rows`);
    }

    const columns = line.split(",");
    if (columns.length !== 2) {
      throw new Error(
        `${file} line ${lineNumber}: expected 2 columns (timestamp,value), found ${columns.length}`,
      );
    }
    const [timestamp, valueText] = columns as [string, string];
    if (canonicalTimestamp(timestamp) === null) {
      throw new Error(
        `${file} line ${lineNumber}: invalid timestamp "${timestamp}", expected YYYY-MM-DD HH:MM:SS`,
      );
    }
    const value = Number(valueText);
    if (valueText.trim() === "" || !Number.isFinite(value)) {
      throw new Error(
        `${file} line ${lineNumber}: value "${valueText}" is not a finite number`,
      );
    }
    rows.push({ timestamp, value });
  }

  if (rows.length === 0) throw new Error(`${file}: no data rows`);
  return rows;
}

/**
 * Converts label windows (timestamp pairs) into inclusive row-index ranges.
 *
 * A window starts at the first row whose timestamp equals its start and ends
 * at the first row whose timestamp equals its end, as NAB's sweeper does
 * (nab/sweeper.py uses list.index). So with a run of duplicate timestamps at
 * the end of a window, only the first row of the run is inside it.
 */
export function windowRowRanges(
  rows: readonly NabRow[],
  limits: readonly [string, string][],
  key: string,
): [number, number][] {
  const firstRow = new Map<string, number>();
  rows.forEach((row, index) => {
    const canonical = canonicalTimestamp(row.timestamp)!;
    if (!firstRow.has(canonical)) firstRow.set(canonical, index);
  });

  const findRow = (text: string, windowIndex: number, edge: string) => {
    const canonical = canonicalTimestamp(text);
    const index = canonical === null ? undefined : firstRow.get(canonical);
    if (index === undefined) {
      throw new Error(
        `${WINDOWS_PATH}: "${key}"[${windowIndex}] ${edge} "${text}" matches no row of data/${key}`,
      );
    }
    return index;
  };

  const ranges: [number, number][] = [];
  limits.forEach(([startText, endText], windowIndex) => {
    const start = findRow(startText, windowIndex, "start");
    const end = findRow(endText, windowIndex, "end");
    if (end < start) {
      throw new Error(
        `${WINDOWS_PATH}: "${key}"[${windowIndex}] ends at row ${end}, before its start row ${start}`,
      );
    }
    const previous = ranges.at(-1);
    if (previous && start <= previous[1]) {
      throw new Error(
        `${WINDOWS_PATH}: "${key}"[${windowIndex}] starts at row ${start}, inside or before the previous window (rows ${previous[0]}-${previous[1]}). Windows must be sorted and must not overlap`,
      );
    }
    ranges.push([start, end]);
  });
  return ranges;
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
}

async function readJson(dir: string, relative: string): Promise<unknown> {
  const text = await readFile(path.join(dir, relative), "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(
      `${relative}: invalid JSON: ${(error as Error).message}`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads labels/combined_windows.json into timestamp pairs per file key. */
async function readWindowLimits(
  dir: string,
): Promise<Map<string, [string, string][]>> {
  let parsed: unknown;
  try {
    parsed = await readJson(dir, WINDOWS_PATH);
  } catch (error) {
    if (isMissingFile(error)) {
      throw new Error(
        `${WINDOWS_PATH} not found in ${dir}. A NAB folder needs its label windows`,
      );
    }
    throw error;
  }
  if (!isRecord(parsed)) {
    throw new Error(
      `${WINDOWS_PATH}: expected an object mapping "<category>/<file>.csv" to windows`,
    );
  }

  const limits = new Map<string, [string, string][]>();
  for (const [key, windows] of Object.entries(parsed)) {
    if (!Array.isArray(windows)) {
      throw new Error(`${WINDOWS_PATH}: "${key}" must be a list of windows`);
    }
    limits.set(
      key,
      windows.map((window: unknown, index) => {
        if (
          !Array.isArray(window) ||
          window.length !== 2 ||
          typeof window[0] !== "string" ||
          typeof window[1] !== "string"
        ) {
          throw new Error(
            `${WINDOWS_PATH}: "${key}"[${index}] must be a [start, end] pair of timestamps`,
          );
        }
        return [window[0], window[1]] as [string, string];
      }),
    );
  }
  return limits;
}

/**
 * Reads config/profiles.json, or returns STANDARD_NAB_PROFILES when the file
 * does not exist. Profiles keep the order of the file.
 */
async function readProfiles(dir: string): Promise<Record<string, NabProfile>> {
  let parsed: unknown;
  try {
    parsed = await readJson(dir, PROFILES_PATH);
  } catch (error) {
    if (isMissingFile(error)) return { ...STANDARD_NAB_PROFILES };
    throw error;
  }
  if (!isRecord(parsed) || Object.keys(parsed).length === 0) {
    throw new Error(
      `${PROFILES_PATH}: expected an object mapping profile names to { "CostMatrix": { ... } }`,
    );
  }

  const profiles: Record<string, NabProfile> = {};
  for (const [name, entry] of Object.entries(parsed)) {
    const matrix = isRecord(entry) ? entry.CostMatrix : undefined;
    if (!isRecord(matrix)) {
      throw new Error(`${PROFILES_PATH}: ${name}.CostMatrix is missing`);
    }
    const weight = (field: string): number => {
      const value = matrix[field];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new Error(
          `${PROFILES_PATH}: ${name}.CostMatrix.${field} must be a non-negative number, got ${JSON.stringify(value)}`,
        );
      }
      return value;
    };
    profiles[name] = {
      tpWeight: weight("tpWeight"),
      fnWeight: weight("fnWeight"),
      fpWeight: weight("fpWeight"),
    };
  }
  return profiles;
}

/** Lists data/<category>/<file>.csv as [category, name] pairs, sorted. */
async function listDataFiles(dir: string): Promise<[string, string][]> {
  const dataDir = path.join(dir, "data");
  let categories;
  try {
    categories = await readdir(dataDir, { withFileTypes: true });
  } catch (error) {
    if (isMissingFile(error)) {
      throw new Error(
        `data/ not found in ${dir}. Expected data/<category>/<file>.csv`,
      );
    }
    throw error;
  }

  const files: [string, string][] = [];
  for (const category of categories) {
    if (!category.isDirectory()) continue;
    const entries = await readdir(path.join(dataDir, category.name), {
      withFileTypes: true,
    });
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith(".csv")) {
        files.push([category.name, entry.name]);
      }
    }
  }
  if (files.length === 0) {
    throw new Error(`no data/<category>/<file>.csv files found in ${dir}`);
  }
  return files.sort(
    (a, b) => compareText(a[0], b[0]) || compareText(a[1], b[1]),
  );
}

/**
 * Loads every series of a NAB-layout folder with its anomaly windows as row
 * ranges, and the cost profiles.
 *
 * Files are sorted by category, then name. Every data file needs an entry in
 * labels/combined_windows.json (an empty list when it has no anomalies).
 * Entries for files that are not in data/ are ignored, so the full NAB label
 * file works with a subset of the data. Without config/profiles.json the
 * three standard NAB profiles are used.
 *
 * @throws Error naming the file, and the line or window, of malformed input.
 */
export async function loadNab(
  dir: string,
): Promise<{ files: NabFile[]; profiles: Record<string, NabProfile> }> {
  const limitsByKey = await readWindowLimits(dir);
  const profiles = await readProfiles(dir);

  const files: NabFile[] = [];
  for (const [category, name] of await listDataFiles(dir)) {
    const key = `${category}/${name}`;
    const limits = limitsByKey.get(key);
    if (limits === undefined) {
      throw new Error(
        `${WINDOWS_PATH} has no entry for "${key}". Add "${key}": [] if the file has no anomalies`,
      );
    }
    const text = await readFile(path.join(dir, "data", category, name), "utf8");
    const rows = parseNabRows(text, `data/${key}`);
    files.push({
      category,
      name,
      rows,
      windows: windowRowRanges(rows, limits, key),
    });
  }
  return { files, profiles };
}

/**
 * Formats one series' detector output in NAB's results layout: header
 * "timestamp,value,anomaly_score,label", then one line per data row in file
 * order. The label is `labels[i]` when given, else 1 for rows inside a
 * window and 0 elsewhere.
 *
 * @throws Error when scores or labels do not have one entry per row, or a
 *   score is not a finite number.
 */
export function resultsCsv(
  file: NabFile,
  scores: readonly number[],
  labels?: readonly number[],
): string {
  const key = `${file.category}/${file.name}`;
  if (scores.length !== file.rows.length) {
    throw new Error(
      `${key}: ${scores.length} scores for ${file.rows.length} rows. A detector must return one score per row`,
    );
  }
  if (labels !== undefined && labels.length !== file.rows.length) {
    throw new Error(
      `${key}: ${labels.length} labels for ${file.rows.length} rows`,
    );
  }

  const windowLabels = new Uint8Array(file.rows.length);
  for (const [start, end] of file.windows) windowLabels.fill(1, start, end + 1);

  const lines = ["timestamp,value,anomaly_score,label"];
  file.rows.forEach((row, index) => {
    const score = scores[index]!;
    if (!Number.isFinite(score)) {
      throw new Error(`${key}: score of row ${index} is ${score}, not a finite number`);
    }
    const label = labels === undefined ? windowLabels[index] : labels[index];
    lines.push(`${row.timestamp},${row.value},${score},${label}`);
  });
  return `${lines.join("\n")}\n`;
}
