import type { NabFile } from "@/lib/nab/dataset";
import type { NabScore, scoreByCategory } from "@/lib/nab/scoring";

// The text report of npm run eval:nab: normalised scores per detector,
// profile and category, the detection counts behind the standard profile,
// and timing.

export type DetectorRun = {
  detector: string;
  files: number;
  /** Wall time of the whole detector run, including writing results. */
  totalMs: number;
  /** Part of totalMs spent training models. */
  trainingMs: number;
  results: ReturnType<typeof scoreByCategory>;
  /** True for an earlier run's results scored at a fixed threshold, whose
   * run time is not listed again. */
  rescored?: boolean;
};

export type Report = {
  data: string;
  out: string;
  files: NabFile[];
  backend: string | null;
  runs: DetectorRun[];
  totalMs: number;
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function normalized(score: NabScore | undefined): string {
  if (!score || score.normalized === null) return "n/a";
  return score.normalized.toFixed(2);
}

function threshold(score: NabScore): string {
  return score.threshold === null ? "none" : score.threshold.toFixed(6);
}

/** Pads each cell to the widest cell of its column. The first two columns are
 * left-aligned and the rest right-aligned. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) =>
    Math.max(...rows.map((row) => row[column]!.length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) =>
        column <= 1
          ? cell.padEnd(widths[column]!)
          : cell.padStart(widths[column]!),
      )
      .join("  ")
      .trimEnd(),
  );
}

function categoriesOf(files: NabFile[]): string[] {
  return [...new Set(files.map((file) => file.category))];
}

function scoreTable(report: Report, categories: string[]): string[] {
  const rows = [["detector", "profile", "overall", ...categories]];
  for (const run of report.runs) {
    for (const result of run.results) {
      rows.push([
        run.detector,
        result.profile,
        normalized(result.overall),
        ...categories.map((category) =>
          normalized(result.categories[category]),
        ),
      ]);
    }
  }
  return table(rows);
}

function detectionTable(report: Report, categories: string[]): string[] {
  const rows = [
    [
      "detector",
      "selection",
      "threshold",
      "windows hit",
      "false positives",
      "windows missed",
    ],
  ];
  for (const run of report.runs) {
    const standard = run.results.find(
      (result) => result.profile === "standard",
    );
    if (!standard) continue;
    const selections: [string, NabScore | undefined][] = [
      ["overall", standard.overall],
      ...categories.map((category): [string, NabScore | undefined] => [
        category,
        standard.categories[category],
      ]),
    ];
    for (const [selection, score] of selections) {
      if (!score) continue;
      rows.push([
        run.detector,
        selection,
        threshold(score),
        String(score.truePositives),
        String(score.falsePositives),
        String(score.falseNegatives),
      ]);
    }
  }
  return table(rows);
}

/** Formats the whole report as lines of text, without a trailing newline. */
export function formatReport(report: Report): string {
  const categories = categoriesOf(report.files);
  const rows = report.files.reduce((sum, file) => sum + file.rows.length, 0);
  const windows = report.files.reduce(
    (sum, file) => sum + file.windows.length,
    0,
  );

  const lines = [
    `NAB evaluation of ${report.data}`,
    `${report.files.length} files, ${rows} rows, ${windows} anomaly windows, ` +
      `${categories.length} categories. Results CSVs in ${report.out}`,
  ];
  if (report.backend) lines.push(`TensorFlow.js backend: ${report.backend}`);

  lines.push(
    "",
    "Normalised NAB score (0 = no detections, " +
      "100 = every window hit at its start, n/a = no windows)",
    ...scoreTable(report, categories),
    "",
    "Standard profile at the threshold its sweep chose for each selection",
    "(false positives are detections outside windows, counted per row)",
    ...detectionTable(report, categories),
    "",
    "Run time",
  );
  for (const run of report.runs) {
    if (run.rescored) continue;
    lines.push(
      `${run.detector}: ${run.files} files in ${seconds(run.totalMs)}` +
        ` (training ${seconds(run.trainingMs)})`,
    );
  }
  lines.push(`total: ${seconds(report.totalMs)}`);
  return lines.join("\n");
}
