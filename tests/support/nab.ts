import { readFileSync } from "node:fs";
import path from "node:path";

// Loads a Numenta Anomaly Benchmark series and its labelled anomaly windows
// from data/nab. NAB timestamps carry no time zone; they are read as UTC.

export type NabPoint = { ts: Date; value: number };
export type NabWindow = { start: Date; end: Date };
export type NabSeries = { file: string; points: NabPoint[]; windows: NabWindow[] };

const NAB_ROOT = path.resolve(import.meta.dirname, "../../data/nab");

function parseNabTime(text: string): Date {
  const iso = `${text.trim().slice(0, 19).replace(" ", "T")}Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    throw new Error(`invalid NAB timestamp "${text}"`);
  }
  return date;
}

/** Loads `<category>/<name>.csv`, for example "realAWSCloudwatch/x.csv". */
export function loadNabSeries(file: string): NabSeries {
  const lines = readFileSync(path.join(NAB_ROOT, file), "utf8")
    .trim()
    .split("\n")
    .slice(1);
  const points = lines.map((line) => {
    const [timestamp, value] = line.split(",");
    return { ts: parseNabTime(timestamp!), value: Number(value) };
  });

  const labels = JSON.parse(
    readFileSync(path.join(NAB_ROOT, "labels/combined_windows.json"), "utf8"),
  ) as Record<string, [string, string][]>;
  const windows = (labels[file] ?? []).map(([start, end]) => ({
    start: parseNabTime(start),
    end: parseNabTime(end),
  }));
  return { file, points, windows };
}

/** Moves a series and its windows in time so that the last point is `end`. */
export function shiftToEnd(series: NabSeries, end: Date): NabSeries {
  const offset = end.getTime() - series.points.at(-1)!.ts.getTime();
  const shift = (date: Date) => new Date(date.getTime() + offset);
  return {
    file: series.file,
    points: series.points.map((point) => ({ ...point, ts: shift(point.ts) })),
    windows: series.windows.map((window) => ({
      start: shift(window.start),
      end: shift(window.end),
    })),
  };
}
