import { probationRows, type ScoredFile } from "@/lib/nab/scoring";

// Per-window view of one detector's results at one threshold: which windows
// a file's detections hit and where, and which detections fall outside
// every window. It explains a NAB score and never changes it.

export type WindowOutcome = {
  /** First and last row of the window, inclusive. */
  start: number;
  end: number;
  /** Row offset of the first detection from the window's start, or null
   * when the window was missed. */
  firstDetection: number | null;
  /** Highest anomaly score in the window. */
  peak: number;
};

export type FileWindows = {
  category: string;
  name: string;
  windows: WindowOutcome[];
  /** Rows of the detections outside every window, after probation. */
  falsePositiveRows: number[];
};

/**
 * Describes the windows and false positives of one file at `threshold`. A
 * null threshold means no detections. Probation rows never count as
 * detections, as in NAB's scoring.
 */
export function describeWindows(
  file: ScoredFile,
  threshold: number | null,
): FileWindows {
  const probation = probationRows(file.scores.length);
  const detections: number[] = [];
  if (threshold !== null) {
    file.scores.forEach((score, row) => {
      if (row >= probation && score >= threshold) detections.push(row);
    });
  }

  const inWindow = (row: number) =>
    file.windows.some(([start, end]) => row >= start && row <= end);
  const windows = file.windows.map(([start, end]) => {
    const first = detections.find((row) => row >= start && row <= end);
    let peak = Number.NEGATIVE_INFINITY;
    for (let row = start; row <= end; row += 1) {
      peak = Math.max(peak, file.scores[row]!);
    }
    return {
      start,
      end,
      firstDetection: first === undefined ? null : first - start,
      peak,
    };
  });
  return {
    category: file.category,
    name: file.name,
    windows,
    falsePositiveRows: detections.filter((row) => !inWindow(row)),
  };
}

/** Formats one file's windows as one line, for the eval:nab report. */
export function formatFileWindows(described: FileWindows): string {
  const windows = described.windows.map((window) => {
    const outcome =
      window.firstDetection === null
        ? "missed"
        : `hit at +${window.firstDetection}`;
    return `[${window.start}-${window.end}] ${outcome}, peak ${window.peak.toFixed(4)}`;
  });
  const falsePositives = described.falsePositiveRows;
  const firstRows = falsePositives.slice(0, 10).join(", ");
  const more = falsePositives.length > 10 ? ", ..." : "";
  const count = falsePositives.length;
  const noun = count === 1 ? "false positive" : "false positives";
  const rows = count > 0 ? ` (rows ${firstRows}${more})` : "";
  const windowText = windows.length > 0 ? `; ${windows.join("; ")}` : "";
  return `${described.category}/${described.name}: ${count} ${noun}${rows}${windowText}`;
}
