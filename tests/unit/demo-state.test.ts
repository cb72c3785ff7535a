import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  databaseIdentity,
  demoStatePath,
  readDemoState,
  writeDemoState,
  type DemoState,
} from "@/lib/demo/state";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "ops-demo-state-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const state: DemoState = {
  version: 1,
  database: "127.0.0.1:5544/vigil",
  anchor: "2026-12-04T12:00:00.000Z",
  cutoff: "2026-12-02T13:35:00.000Z",
  streamSteps: 605,
  position: 42,
  backfilled: true,
  updatedAt: "2026-12-04T12:03:30.000Z",
};

describe("demo state file", () => {
  it("returns undefined when there is no file", async () => {
    expect(await readDemoState(dataDir)).toBeUndefined();
  });

  it("reads back what it wrote", async () => {
    await writeDemoState(dataDir, state);
    expect(await readDemoState(dataDir)).toEqual(state);
  });

  it("reads back the last stream stamp", async () => {
    const stamped = { ...state, lastStampedAt: "2026-12-04T12:03:25.000Z" };
    await writeDemoState(dataDir, stamped);
    expect(await readDemoState(dataDir)).toEqual(stamped);
  });

  it("rejects a file that is not JSON", async () => {
    await writeFile(demoStatePath(dataDir), "{oops");
    await expect(readDemoState(dataDir)).rejects.toThrow(
      /demo-state\.json is not valid JSON .*delete it to restart the demo/,
    );
  });

  it("names an invalid field", async () => {
    await writeFile(
      demoStatePath(dataDir),
      JSON.stringify({ ...state, position: -1 }),
    );
    await expect(readDemoState(dataDir)).rejects.toThrow(
      /demo-state\.json is invalid at "position"/,
    );
  });
});

describe("databaseIdentity", () => {
  it("drops the credentials", () => {
    expect(
      databaseIdentity("postgresql://postgres:s3cret@127.0.0.1:5544/vigil"),
    ).toBe("127.0.0.1:5544/vigil");
  });

  it("fills in the default port", () => {
    expect(databaseIdentity("postgres://db.internal/vigil")).toBe(
      "db.internal:5432/vigil",
    );
  });
});
