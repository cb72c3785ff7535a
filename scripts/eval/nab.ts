import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

import { initBackend } from "@/lib/detector/backend";
import { DEFAULT_SETTINGS } from "@/lib/detector/pipeline";
import { loadNab, resultsCsv, type NabFile } from "@/lib/nab/dataset";
import {
  DETECTOR_NAMES,
  vigilScores,
  zscoreScores,
  type DetectorName,
} from "@/lib/nab/detectors";
import { scoreByCategory, type ScoredFile } from "@/lib/nab/scoring";
import { describeWindows, formatFileWindows } from "@/lib/nab/windows";

import { formatReport, type DetectorRun } from "./nab-report";

// npm run eval:nab -- --data DIR --out DIR [--detector vigil|zscore|all] [--windows]
//
// Runs each detector over every series of a folder in the Numenta Anomaly
// Benchmark layout (data/<category>/<file>.csv, labels/combined_windows.json,
// config/profiles.json), writes one results CSV per series in NAB's results
// layout to <out>/<detector>/<category>/<detector>_<file>.csv, and prints
// the normalised NAB scores of every profile, overall and per category. The
// vigil detector is scored twice: at the threshold NAB's sweep picks, and at
// the production alarm threshold (DEFAULT_SETTINGS.alarmThreshold).

const USAGE = `Usage: npm run eval:nab -- --data DIR --out DIR [--detector vigil|zscore|all] [--windows]

  --data DIR       NAB folder with data/<category>/<file>.csv,
                   labels/combined_windows.json and config/profiles.json
  --out DIR        folder for the results CSVs, created when missing
  --detector NAME  vigil, zscore or all (default all)
  --windows        also list each file's windows (hit or missed, peak score)
                   and false positive rows at the standard profile's
                   overall threshold`;

class UsageError extends Error {}

type Options = {
  data: string;
  out: string;
  detectors: DetectorName[];
  windows: boolean;
};

function parseOptions(argv: string[]): Options | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        data: { type: "string" },
        out: { type: "string" },
        detector: { type: "string", default: "all" },
        windows: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message);
  }
  const { values } = parsed;
  if (values.help) return null;
  if (!values.data) throw new UsageError("missing --data DIR");
  if (!values.out) throw new UsageError("missing --out DIR");

  const detector = values.detector;
  let detectors: DetectorName[];
  if (detector === "all") {
    detectors = [...DETECTOR_NAMES];
  } else if ((DETECTOR_NAMES as readonly string[]).includes(detector)) {
    detectors = [detector as DetectorName];
  } else {
    throw new UsageError(
      `invalid --detector "${detector}": expected vigil, zscore or all`,
    );
  }
  return {
    data: path.resolve(values.data),
    out: path.resolve(values.out),
    detectors,
    windows: values.windows,
  };
}

async function assertFolder(folder: string, option: string): Promise<void> {
  const info = await stat(folder).catch(() => null);
  if (!info) throw new UsageError(`${option} ${folder}: folder not found`);
  if (!info.isDirectory()) {
    throw new UsageError(`${option} ${folder}: not a folder`);
  }
}

/** Returns the anomaly scores of one file and the time spent training. */
async function runOnFile(
  detector: DetectorName,
  file: NabFile,
): Promise<{ scores: number[]; trainingMs: number }> {
  const values = file.rows.map((row) => row.value);
  if (detector === "zscore") {
    return { scores: zscoreScores(values), trainingMs: 0 };
  }
  const run = await vigilScores(values);
  return { scores: run.scores, trainingMs: run.trainingMs };
}

async function runDetector(
  detector: DetectorName,
  files: NabFile[],
  out: string,
): Promise<{ scored: ScoredFile[]; run: Omit<DetectorRun, "results"> }> {
  const started = performance.now();
  let trainingMs = 0;
  const scored: ScoredFile[] = [];

  for (const file of files) {
    let result;
    try {
      result = await runOnFile(detector, file);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `${detector} failed on ${file.category}/${file.name}: ${reason}`,
      );
    }
    trainingMs += result.trainingMs;

    const folder = path.join(out, detector, file.category);
    await mkdir(folder, { recursive: true });
    await writeFile(
      path.join(folder, `${detector}_${file.name}`),
      resultsCsv(file, result.scores),
    );
    scored.push({
      category: file.category,
      name: file.name,
      scores: result.scores,
      windows: file.windows,
    });
  }

  return {
    scored,
    run: {
      detector,
      files: files.length,
      totalMs: performance.now() - started,
      trainingMs,
    },
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(USAGE);
    return;
  }
  await assertFolder(options.data, "--data");

  const started = performance.now();
  const { files, profiles } = await loadNab(options.data);
  if (files.length === 0) {
    throw new UsageError(
      `--data ${options.data}: no series files found under data/<category>/*.csv`,
    );
  }
  const backend = options.detectors.some((name) => name.startsWith("vigil"))
    ? await initBackend()
    : null;

  const runs: DetectorRun[] = [];
  const windowLines: string[] = [];
  for (const detector of options.detectors) {
    const { scored, run } = await runDetector(detector, files, options.out);
    const results = scoreByCategory(scored, profiles);
    runs.push({ ...run, results });
    if (options.windows) {
      const standard = results.find((result) => result.profile === "standard");
      const threshold = standard?.overall.threshold ?? null;
      windowLines.push(
        "",
        `Windows of ${detector} at threshold ${threshold ?? "none"}`,
        ...scored.map((file) =>
          formatFileWindows(describeWindows(file, threshold)),
        ),
      );
    }
    if (detector === "vigil") {
      // The alarm threshold the worker uses, instead of the sweep's.
      const threshold = DEFAULT_SETTINGS.alarmThreshold;
      runs.push({
        ...run,
        detector: `vigil@${threshold.toFixed(4)}`,
        rescored: true,
        results: scoreByCategory(scored, profiles, { threshold }),
      });
    }
  }

  console.log(
    formatReport({
      data: options.data,
      out: options.out,
      files,
      backend,
      runs,
      totalMs: performance.now() - started,
    }),
  );
  for (const line of windowLines) console.log(line);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`eval:nab failed: ${message}`);
  if (error instanceof UsageError) console.error(`\n${USAGE}`);
  process.exitCode = 1;
});
