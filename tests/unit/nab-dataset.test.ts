import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import {
  loadNab,
  resultsCsv,
  STANDARD_NAB_PROFILES,
  type NabFile,
} from "@/lib/nab/dataset";
import { scoreByCategory, type ScoredFile } from "@/lib/nab/scoring";

// Loads tiny NAB-layout folders written to a temporary directory, and the
// real NAB subset at REAL_NAB_DIR when that folder exists.

const REAL_NAB_DIR = path.resolve(import.meta.dirname, "../../../shared/datasets/nab");

// Rows 2..4 repeat 03:00:00, like the daylight-saving run in two NAB files.
const DUPLICATES_CSV = [
  "timestamp,value",
  "2014-03-09 01:50:00,1.5",
  "2014-03-09 01:55:00,2",
  "2014-03-09 03:00:00,3",
  "2014-03-09 03:00:00,4",
  "2014-03-09 03:00:00,5",
  "2014-03-09 03:05:00,6",
  "2014-03-09 03:10:00,7",
  "",
].join("\n");

const PLAIN_CSV = [
  "timestamp,value",
  "2014-04-01 00:00:00,10",
  "2014-04-01 00:05:00,11",
  "2014-04-01 00:10:00,12",
  "",
].join("\n");

const WINDOWS = {
  // Window 0 ends on the duplicated time, so it ends at the run's first row
  // (2), as NAB's scorer does. Window 1 covers rows 5..6.
  "realB/dup.csv": [
    ["2014-03-09 01:55:00.000000", "2014-03-09 03:00:00.000000"],
    ["2014-03-09 03:05:00.000000", "2014-03-09 03:10:00.000000"],
  ],
  "realB/plain.csv": [],
  "artificialA/plain.csv": [["2014-04-01 00:05:00.000000", "2014-04-01 00:05:00.000000"]],
  "heldOut/other.csv": [["2014-01-01 00:00:00.000000", "2014-01-01 00:05:00.000000"]],
};

let tempDirs: string[] = [];

afterEach(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  tempDirs = [];
});

/** Writes a NAB-layout folder: `files` maps paths relative to it to contents. */
async function writeNabDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "vigil-nab-"));
  tempDirs.push(dir);
  for (const [relative, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), text);
  }
  return dir;
}

function standardLayout(): Record<string, string> {
  return {
    "data/realB/dup.csv": DUPLICATES_CSV,
    "data/realB/plain.csv": PLAIN_CSV,
    "data/artificialA/plain.csv": PLAIN_CSV,
    "data/README.md": "not a category",
    "labels/combined_windows.json": JSON.stringify(WINDOWS, null, 4),
  };
}

describe("loadNab", () => {
  it("loads rows in file order", async () => {
    const dir = await writeNabDir(standardLayout());
    const { files } = await loadNab(dir);

    expect(files.map((f) => `${f.category}/${f.name}`)).toEqual([
      "artificialA/plain.csv",
      "realB/dup.csv",
      "realB/plain.csv",
    ]);
    const dup = files[1]!;
    expect(dup.rows).toHaveLength(7);
    expect(dup.rows.map((row) => row.timestamp)).toEqual([
      "2014-03-09 01:50:00",
      "2014-03-09 01:55:00",
      "2014-03-09 03:00:00",
      "2014-03-09 03:00:00",
      "2014-03-09 03:00:00",
      "2014-03-09 03:05:00",
      "2014-03-09 03:10:00",
    ]);
    expect(dup.rows.map((row) => row.value)).toEqual([1.5, 2, 3, 4, 5, 6, 7]);
  });

  it("maps windows to row ranges", async () => {
    const dir = await writeNabDir(standardLayout());
    const { files } = await loadNab(dir);
    expect(files[0]!.windows).toEqual([[1, 1]]);
    expect(files[1]!.windows).toEqual([
      [1, 2],
      [5, 6],
    ]);
    expect(files[2]!.windows).toEqual([]);
  });

  it("uses the standard profiles without a file", async () => {
    const dir = await writeNabDir(standardLayout());
    const { profiles } = await loadNab(dir);
    expect(profiles).toEqual(STANDARD_NAB_PROFILES);
    expect(profiles.standard).toEqual({ tpWeight: 1, fnWeight: 1, fpWeight: 0.11 });
  });

  it("reads config/profiles.json", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "config/profiles.json": JSON.stringify({
        strict: { CostMatrix: { tpWeight: 1, fnWeight: 3, fpWeight: 0.5, tnWeight: 1 } },
        standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } },
      }),
    });
    const { profiles } = await loadNab(dir);
    expect(Object.keys(profiles)).toEqual(["strict", "standard"]);
    expect(profiles.strict).toEqual({ tpWeight: 1, fnWeight: 3, fpWeight: 0.5 });
  });

  it("names the line of a bad value", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "data/realB/plain.csv": "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,abc\n",
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'data/realB/plain.csv line 3: value "abc" is not a finite number',
    );
  });

  it("names the line of a bad timestamp", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "data/realB/plain.csv": "timestamp,value\n2014-04-01T00:00:00Z,1\n",
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'data/realB/plain.csv line 2: invalid timestamp "2014-04-01T00:00:00Z"',
    );
  });

  it("rejects a wrong header", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "data/realB/plain.csv": "time,value\n2014-04-01 00:00:00,1\n",
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'data/realB/plain.csv line 1: invalid header "time,value"',
    );
  });

  it("rejects a blank line between rows", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "data/realB/plain.csv": "timestamp,value\n2014-04-01 00:00:00,1\n\n2014-04-01 00:05:00,2\n",
    });
    await expect(loadNab(dir)).rejects.toThrow(
      "data/realB/plain.csv line 3: empty line between rows",
    );
  });

  it("rejects a file without labels", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "data/realB/extra.csv": PLAIN_CSV,
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'labels/combined_windows.json has no entry for "realB/extra.csv"',
    );
  });

  it("rejects a window time that matches no row", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "labels/combined_windows.json": JSON.stringify({
        ...WINDOWS,
        "realB/plain.csv": [["2014-04-01 00:01:00.000000", "2014-04-01 00:10:00.000000"]],
      }),
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'labels/combined_windows.json: "realB/plain.csv"[0] start "2014-04-01 00:01:00.000000" matches no row of data/realB/plain.csv',
    );
  });

  it("rejects overlapping windows", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "labels/combined_windows.json": JSON.stringify({
        ...WINDOWS,
        "realB/plain.csv": [
          ["2014-04-01 00:00:00.000000", "2014-04-01 00:05:00.000000"],
          ["2014-04-01 00:05:00.000000", "2014-04-01 00:10:00.000000"],
        ],
      }),
    });
    await expect(loadNab(dir)).rejects.toThrow(
      /"realB\/plain\.csv"\[1\] starts at row 1, inside or before the previous window/,
    );
  });

  it("rejects a missing label file", async () => {
    const layout = standardLayout();
    delete layout["labels/combined_windows.json"];
    const dir = await writeNabDir(layout);
    await expect(loadNab(dir)).rejects.toThrow(
      /labels\/combined_windows\.json not found in /,
    );
  });

  it("rejects an invalid profile weight", async () => {
    const dir = await writeNabDir({
      ...standardLayout(),
      "config/profiles.json": JSON.stringify({
        standard: { CostMatrix: { tpWeight: 1, fnWeight: "1", fpWeight: 0.11 } },
      }),
    });
    await expect(loadNab(dir)).rejects.toThrow(
      'config/profiles.json: standard.CostMatrix.fnWeight must be a non-negative number, got "1"',
    );
  });
});

describe("resultsCsv", () => {
  const file: NabFile = {
    category: "realB",
    name: "dup.csv",
    rows: [
      { timestamp: "2014-03-09 01:55:00", value: 2 },
      { timestamp: "2014-03-09 03:00:00", value: 3.25 },
      { timestamp: "2014-03-09 03:00:00", value: 4 },
      { timestamp: "2014-03-09 03:05:00", value: 6 },
    ],
    windows: [[1, 1]],
  };

  it("writes one line per row with window labels", () => {
    expect(resultsCsv(file, [0, 0.75, 0.5, 0.125])).toBe(
      [
        "timestamp,value,anomaly_score,label",
        "2014-03-09 01:55:00,2,0,0",
        "2014-03-09 03:00:00,3.25,0.75,1",
        "2014-03-09 03:00:00,4,0.5,0",
        "2014-03-09 03:05:00,6,0.125,0",
        "",
      ].join("\n"),
    );
  });

  it("uses given labels", () => {
    const lines = resultsCsv(file, [0, 0, 0, 0], [1, 0, 0, 1]).split("\n");
    expect(lines[1]).toBe("2014-03-09 01:55:00,2,0,1");
    expect(lines[2]).toBe("2014-03-09 03:00:00,3.25,0,0");
    expect(lines[4]).toBe("2014-03-09 03:05:00,6,0,1");
  });

  it("rejects a score count mismatch", () => {
    expect(() => resultsCsv(file, [0, 0, 0])).toThrow(
      "realB/dup.csv: 3 scores for 4 rows. A detector must return one score per row",
    );
  });

  it("rejects a non-finite score", () => {
    expect(() => resultsCsv(file, [0, Number.NaN, 0, 0])).toThrow(
      "realB/dup.csv: score of row 1 is NaN, not a finite number",
    );
  });
});

describe("loadNab on the NAB subset", () => {
  it.skipIf(!existsSync(REAL_NAB_DIR))("scores perfect and null detectors", async () => {
    const { files, profiles } = await loadNab(REAL_NAB_DIR);
    expect(files).toHaveLength(28);
    const windowCount = files.reduce((sum, f) => sum + f.windows.length, 0);
    expect(windowCount).toBe(36);
    expect(Object.keys(profiles)).toEqual([
      "standard",
      "reward_low_FP_rate",
      "reward_low_FN_rate",
    ]);

    // The 12 rows at 2014-03-09 03:00:00 stay in place.
    const network = files.find((f) => f.name === "ec2_network_in_5abac7.csv")!;
    const repeated = network.rows.filter((row) => row.timestamp === "2014-03-09 03:00:00");
    expect(repeated).toHaveLength(12);

    const perfect: ScoredFile[] = files.map((f) => {
      const scores = new Array<number>(f.rows.length).fill(0);
      for (const [start] of f.windows) scores[start] = 1;
      return { category: f.category, name: f.name, scores, windows: f.windows };
    });
    const allZero: ScoredFile[] = files.map((f) => ({
      category: f.category,
      name: f.name,
      scores: new Array<number>(f.rows.length).fill(0),
      windows: f.windows,
    }));

    for (const result of scoreByCategory(perfect, profiles)) {
      expect(result.overall.normalized, result.profile).toBeCloseTo(100, 9);
      expect(result.overall.truePositives, result.profile).toBe(36);
      expect(result.overall.falsePositives, result.profile).toBe(0);
    }
    for (const result of scoreByCategory(allZero, profiles)) {
      expect(result.overall.normalized, result.profile).toBe(0);
      expect(result.overall.threshold, result.profile).toBeNull();
      // artificialNoAnomaly has no windows, so it has no normalized score.
      expect(result.categories.artificialNoAnomaly!.normalized).toBeNull();
    }
  });
});
