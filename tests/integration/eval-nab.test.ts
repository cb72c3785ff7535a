import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Runs `node --import tsx scripts/eval/nab.ts`, as npm run eval:nab does, on
// a tiny NAB-layout folder written to a temp dir: one series with a spike
// inside a labelled window and one without windows.

const ROOT = path.resolve(import.meta.dirname, "../..");
const PROFILES = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"];

type RunResult = { code: number; stdout: string; stderr: string };

function runEval(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/eval/nab.ts", ...args],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: "warn", VIGIL_MIN_TRAINING_POINTS: "200" },
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** "2014-04-01 00:00:00" plus `row` steps of 5 minutes. */
function timestampAt(row: number): string {
  const date = new Date(Date.UTC(2014, 3, 1) + row * 5 * 60_000);
  return date.toISOString().slice(0, 19).replace("T", " ");
}

function seriesCsv(values: number[]): string {
  const lines = values.map((value, row) => `${timestampAt(row)},${value}`);
  return `timestamp,value\n${lines.join("\n")}\n`;
}

// A daily wave without noise, 700 rows. The spike at row 620 is inside the
// window of rows 610 to 640.
const SPIKE_ROWS = 700;
const SPIKE_ROW = 620;
const WINDOW: [number, number] = [610, 640];
const spikeValues = Array.from({ length: SPIKE_ROWS }, (_, row) =>
  Number((50 + 10 * Math.sin((2 * Math.PI * row) / 288)).toFixed(4)),
);
spikeValues[SPIKE_ROW] = 90;
const QUIET_ROWS = 600;
const quietValues = Array.from({ length: QUIET_ROWS }, (_, row) => 20 + (row % 7));

let workDir: string;
let dataDir: string;
let outDir: string;
let first: RunResult;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), "vigil-eval-nab-"));
  dataDir = path.join(workDir, "nab");
  outDir = path.join(workDir, "results");

  await mkdir(path.join(dataDir, "data/artificialWithAnomaly"), { recursive: true });
  await mkdir(path.join(dataDir, "data/realQuiet"), { recursive: true });
  await mkdir(path.join(dataDir, "labels"), { recursive: true });
  await mkdir(path.join(dataDir, "config"), { recursive: true });
  await writeFile(
    path.join(dataDir, "data/artificialWithAnomaly/spike.csv"),
    seriesCsv(spikeValues),
  );
  await writeFile(
    path.join(dataDir, "data/realQuiet/steps.csv"),
    seriesCsv(quietValues),
  );
  await writeFile(
    path.join(dataDir, "labels/combined_windows.json"),
    JSON.stringify({
      "artificialWithAnomaly/spike.csv": [
        [`${timestampAt(WINDOW[0])}.000000`, `${timestampAt(WINDOW[1])}.000000`],
      ],
      "realQuiet/steps.csv": [],
    }),
  );
  await writeFile(
    path.join(dataDir, "config/profiles.json"),
    JSON.stringify({
      standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } },
      reward_low_FP_rate: {
        CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22, tnWeight: 1 },
      },
      reward_low_FN_rate: {
        CostMatrix: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11, tnWeight: 1 },
      },
    }),
  );

  first = await runEval(["--data", dataDir, "--out", outDir]);
}, 180_000);

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Parses a results CSV into its header and rows of cells. */
async function readResults(file: string) {
  const lines = (await readFile(file, "utf8")).trim().split("\n");
  return { header: lines[0], rows: lines.slice(1).map((line) => line.split(",")) };
}

/** The lines of the report before the run times, which change per run. */
const scoreLines = (stdout: string) => stdout.split("\nRun time")[0]!;

describe("npm run eval:nab", () => {
  it("exits 0", () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
  });

  for (const detector of ["vigil", "zscore"]) {
    it(`writes ${detector} results files`, async () => {
      const spike = await readResults(
        path.join(outDir, detector, "artificialWithAnomaly", `${detector}_spike.csv`),
      );
      const quiet = await readResults(
        path.join(outDir, detector, "realQuiet", `${detector}_steps.csv`),
      );

      expect(spike.header).toBe("timestamp,value,anomaly_score,label");
      expect(quiet.header).toBe("timestamp,value,anomaly_score,label");
      expect(spike.rows).toHaveLength(SPIKE_ROWS);
      expect(quiet.rows).toHaveLength(QUIET_ROWS);

      spike.rows.forEach(([timestamp, value, score, label], row) => {
        expect(timestamp).toBe(timestampAt(row));
        expect(Number(value)).toBe(spikeValues[row]);
        expect(Number(score)).toBeGreaterThanOrEqual(0);
        expect(Number(score)).toBeLessThanOrEqual(1);
        const inWindow = row >= WINDOW[0] && row <= WINDOW[1];
        expect(label).toBe(inWindow ? "1" : "0");
      });
      expect(quiet.rows.every((row) => row[3] === "0")).toBe(true);
    });
  }

  it("scores the spike above the rows before it", async () => {
    const { rows } = await readResults(
      path.join(outDir, "vigil", "artificialWithAnomaly", "vigil_spike.csv"),
    );
    const scores = rows.map((row) => Number(row[2]));

    expect(scores.slice(0, 200).every((score) => score === 0)).toBe(true);
    expect(Math.max(...scores.slice(SPIKE_ROW, SPIKE_ROW + 6))).toBeGreaterThan(
      Math.max(...scores.slice(200, SPIKE_ROW)),
    );
  });

  it("prints every profile per detector", () => {
    for (const detector of ["vigil", "zscore"]) {
      for (const profile of PROFILES) {
        expect(first.stdout).toMatch(new RegExp(`^${detector} +${profile} `, "m"));
      }
    }
    expect(first.stdout).toMatch(
      /^detector +profile +overall +artificialWithAnomaly +realQuiet$/m,
    );
    expect(first.stdout).toContain("vigil: 2 files in");
    expect(first.stdout).toContain("zscore: 2 files in");
  });

  it("prints n/a for a category without windows", () => {
    expect(first.stdout).toMatch(/^vigil +standard +\S+ +\S+ +n\/a$/m);
  });

  it("prints the same scores twice", async () => {
    const second = await runEval(["--data", dataDir, "--out", outDir]);

    expect(second.code).toBe(0);
    expect(scoreLines(second.stdout)).toBe(scoreLines(first.stdout));
  }, 180_000);

  it("runs one detector alone", async () => {
    const zscoreOut = path.join(workDir, "zscore-only");
    const result = await runEval([
      "--data", dataDir, "--out", zscoreOut, "--detector", "zscore",
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/^vigil/m);
    expect(result.stdout).toMatch(/^zscore +standard /m);
  });

  it("lists windows with --windows", async () => {
    const result = await runEval([
      "--data", dataDir, "--out", path.join(workDir, "windows"),
      "--detector", "zscore", "--windows",
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Windows of zscore at threshold /m);
    expect(result.stdout).toMatch(
      /^artificialWithAnomaly\/spike\.csv: \d+ false positives.*\[610-640\] (hit at \+\d+|missed), peak /m,
    );
    expect(result.stdout).toMatch(/^realQuiet\/steps\.csv: \d+ false positives/m);
  });

  it("rejects a missing folder", async () => {
    const missing = path.join(workDir, "missing");
    const result = await runEval(["--data", missing, "--out", outDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--data ${missing}: folder not found`);
  });

  it("rejects a missing --out", async () => {
    const result = await runEval(["--data", dataDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("missing --out DIR");
    expect(result.stderr).toContain("Usage: npm run eval:nab");
  });

  it("rejects an unknown detector", async () => {
    const result = await runEval([
      "--data", dataDir, "--out", outDir, "--detector", "htm",
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'invalid --detector "htm": expected vigil, zscore or all',
    );
  });

  it("rejects a folder without data", async () => {
    const empty = path.join(workDir, "empty");
    await mkdir(empty, { recursive: true });
    const result = await runEval(["--data", empty, "--out", outDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "eval:nab failed: labels/combined_windows.json not found",
    );
  });

  it("rejects a malformed series file", async () => {
    const broken = path.join(workDir, "broken");
    await mkdir(path.join(broken, "data/realBroken"), { recursive: true });
    await mkdir(path.join(broken, "labels"), { recursive: true });
    await writeFile(
      path.join(broken, "data/realBroken/bad.csv"),
      `timestamp,value\n${timestampAt(0)},1\n${timestampAt(1)},abc\n`,
    );
    await writeFile(
      path.join(broken, "labels/combined_windows.json"),
      JSON.stringify({ "realBroken/bad.csv": [] }),
    );
    const result = await runEval(["--data", broken, "--out", outDir]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("data/realBroken/bad.csv line 3");
  });
});
