import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { DEMO_SERIES } from "@/lib/demo/catalog";
import {
  loadRunbookLibrary,
  parseRunbook,
  RunbookFormatError,
} from "@/lib/runbooks/library";

const VALID = `---
slug: disk-full
title: Disk full
services: [checkout-api]
metricPattern: "disk_*"
labels:
  tier: web
---
# Disk full

Free some space.
`;

/** Matches a glob with * and ? against a whole metric name. */
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split("")
    .map((char) =>
      char === "*"
        ? ".*"
        : char === "?"
          ? "."
          : char.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`).test(name);
}

let tempDir: string | undefined;
afterEach(async () => {
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  tempDir = undefined;
});

describe("parseRunbook", () => {
  it("reads the front matter and the body", () => {
    const runbook = parseRunbook(VALID, "disk-full.md");
    expect(runbook.slug).toBe("disk-full");
    expect(runbook.title).toBe("Disk full");
    expect(runbook.services).toEqual(["checkout-api"]);
    expect(runbook.metricPattern).toBe("disk_*");
    expect(runbook.labels).toEqual({ tier: "web" });
    expect(runbook.body).toBe("# Disk full\n\nFree some space.");
  });

  it("defaults the match rules to any", () => {
    const runbook = parseRunbook(
      "---\nslug: triage\ntitle: Triage\n---\nLook around.\n",
      "triage.md",
    );
    expect(runbook.services).toEqual([]);
    expect(runbook.metricPattern).toBeNull();
    expect(runbook.labels).toEqual({});
  });

  it("rejects a file without front matter", () => {
    expect(() => parseRunbook("# Title\n", "bad.md")).toThrow(
      "bad.md: missing front matter",
    );
  });

  it("rejects invalid YAML", () => {
    expect(() =>
      parseRunbook("---\nslug: [unclosed\n---\nbody\n", "bad.md"),
    ).toThrow(/bad\.md: front matter is not valid YAML/);
  });

  it("names the invalid field", () => {
    const text = VALID.replace("slug: disk-full", "slug: Disk Full");
    expect(() => parseRunbook(text, "bad.md")).toThrow(RunbookFormatError);
    expect(() => parseRunbook(text, "bad.md")).toThrow(
      /bad\.md: invalid front matter \(slug: must be lower-case words joined by -\)/,
    );
  });

  it("names a missing title", () => {
    const text = VALID.replace("title: Disk full\n", "");
    expect(() => parseRunbook(text, "bad.md")).toThrow(/title:/);
  });

  it("rejects a label value that is not a string", () => {
    const text = VALID.replace("tier: web", "tier: [web]");
    expect(() => parseRunbook(text, "bad.md")).toThrow(/labels\.tier:/);
  });

  it("rejects an empty body", () => {
    const text = VALID.replace("# Disk full\n\nFree some space.\n", "\n");
    expect(() => parseRunbook(text, "bad.md")).toThrow(
      "bad.md: the Markdown body is empty",
    );
  });
});

describe("loadRunbookLibrary", () => {
  it("rejects two files with one slug", async () => {
    tempDir = await mkdtemp(path.join(os.tmpdir(), "ops-runbooks-"));
    await writeFile(path.join(tempDir, "a.md"), VALID);
    await writeFile(path.join(tempDir, "b.md"), VALID);
    await expect(loadRunbookLibrary(tempDir)).rejects.toThrow(
      'b.md: slug "disk-full" is already used by a.md',
    );
  });

  it("loads the shipped library", async () => {
    const runbooks = await loadRunbookLibrary();
    expect(runbooks.length).toBeGreaterThanOrEqual(6);
    expect(runbooks.length).toBeLessThanOrEqual(10);
    const slugs = runbooks.map((runbook) => runbook.slug);
    expect(slugs).toContain("generic-anomaly-triage");
    expect(slugs).toContain("error-rate-after-deployment");
  });

  it("matches every demo metric with a specific runbook", async () => {
    const runbooks = await loadRunbookLibrary();
    for (const series of DEMO_SERIES) {
      const matches = runbooks.filter(
        (runbook) =>
          runbook.metricPattern !== null &&
          globMatches(runbook.metricPattern, series.name),
      );
      expect(matches.length, series.name).toBeGreaterThan(0);
    }
  });
});
