import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { closeDb, getPool } from "@/lib/db";
import { withTransaction } from "@/lib/ingest/transaction";
import {
  loadRunbookLibrary,
  parseRunbook,
  upsertRunbooks,
  type LibraryRunbook,
} from "@/lib/runbooks/library";
import {
  findRunbookBySlug,
  saveRunbookVersion,
  setArchived,
} from "@/lib/runbooks/versions";
import { truncateAll } from "@/tests/support/database";

// Library sync at start and runbook versions on the real database: a new
// file creates version 1, an unchanged file adds nothing, a changed file
// adds a version, and an admin's edit survives a sync of an unchanged file.

const FILE = `---
slug: disk-full
title: Disk full
services: [checkout]
metricPattern: "disk_*"
alertNames: ["DiskFull*"]
severities: [sev1, sev2]
steps:
  - id: clean-tmp
    title: Clean /tmp
    url: http://127.0.0.1:3243/clean
automatic: true
---
# Disk full

Free some space.
`;

function library(text = FILE): LibraryRunbook[] {
  return [parseRunbook(text, "disk-full.md")];
}

async function versions(): Promise<Array<Record<string, unknown>>> {
  const { rows } = await getPool().query(
    `SELECT v.version, v.title, v.author_name, v.automatic, r.current_version
       FROM runbook_version v JOIN runbook r ON r.id = v.runbook_id
      ORDER BY v.version`,
  );
  return rows;
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await closeDb();
});

describe("upsertRunbooks", () => {
  it("creates version 1 from a file", async () => {
    const result = await upsertRunbooks(library());

    expect(result).toEqual({ created: 1, updated: 0, unchanged: 0 });
    const runbook = await findRunbookBySlug(getPool(), "disk-full");
    expect(runbook!.currentVersion).toBe(1);
    expect(runbook!.content.alertNames).toEqual(["DiskFull*"]);
    expect(runbook!.content.severities).toEqual(["sev1", "sev2"]);
    expect(runbook!.content.automatic).toBe(true);
    expect(runbook!.content.steps).toEqual([
      {
        id: "clean-tmp",
        title: "Clean /tmp",
        url: "http://127.0.0.1:3243/clean",
        method: "POST",
        timeoutSeconds: 10,
        retries: 2,
      },
    ]);
  });

  it("adds no version for an unchanged file", async () => {
    await upsertRunbooks(library());

    const second = await upsertRunbooks(library());

    expect(second).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect(await versions()).toHaveLength(1);
  });

  it("adds a version for a changed file", async () => {
    await upsertRunbooks(library());

    const changed = await upsertRunbooks(library(FILE.replace("Free some space.", "Delete old logs.")));

    expect(changed).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(await versions()).toEqual([
      { version: 1, title: "Disk full", author_name: "runbook library", automatic: true, current_version: 2 },
      { version: 2, title: "Disk full", author_name: "runbook library", automatic: true, current_version: 2 },
    ]);
  });

  it("keeps an admin edit of an unchanged file", async () => {
    await upsertRunbooks(library());
    await withTransaction(getPool(), async (client) => {
      const runbook = await findRunbookBySlug(client, "disk-full", { lock: true });
      await saveRunbookVersion(
        client,
        runbook!,
        { ...runbook!.content, title: "Disk full (edited)", automatic: false },
        { type: "user", id: 1, name: "Ada" },
      );
    });

    const result = await upsertRunbooks(library());

    expect(result.unchanged).toBe(1);
    const runbook = await findRunbookBySlug(getPool(), "disk-full");
    expect(runbook!.content.title).toBe("Disk full (edited)");
    expect(runbook!.currentVersion).toBe(2);
  });

  it("leaves an archived runbook alone", async () => {
    await upsertRunbooks(library());
    const runbook = await findRunbookBySlug(getPool(), "disk-full");
    await setArchived(getPool(), runbook!.id, true);

    const result = await upsertRunbooks(library(FILE.replace("Disk full\n", "Disk filling up\n")));

    expect(result.unchanged).toBe(1);
    expect(await versions()).toHaveLength(1);
  });

  it("versions a runbook stored without versions", async () => {
    await getPool().query(
      `INSERT INTO runbook (slug, title, body) VALUES ('disk-full', 'Old', 'Old body')`,
    );

    const result = await upsertRunbooks(library());

    expect(result.updated).toBe(1);
    expect(await versions()).toEqual([
      { version: 1, title: "Disk full", author_name: "runbook library", automatic: true, current_version: 1 },
    ]);
  });

  it("numbers concurrent versions apart", async () => {
    await upsertRunbooks(library());

    await Promise.all(
      ["one", "two", "three"].map((word) =>
        withTransaction(getPool(), async (client) => {
          const runbook = await findRunbookBySlug(client, "disk-full", { lock: true });
          await saveRunbookVersion(
            client,
            runbook!,
            { ...runbook!.content, body: `Body ${word}` },
            { type: "user", id: 1, name: "Ada" },
          );
        }),
      ),
    );

    const rows = await versions();
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
    expect(rows[0]!.current_version).toBe(4);
  });

  it("syncs the shipped library", async () => {
    const shipped = await loadRunbookLibrary();

    const first = await upsertRunbooks(shipped);
    const second = await upsertRunbooks(shipped);

    expect(first.created).toBe(shipped.length);
    expect(second).toEqual({ created: 0, updated: 0, unchanged: shipped.length });
  });
});
