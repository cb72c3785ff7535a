import { describe, expect, it } from "vitest";

import { demoProgress } from "@/lib/demo/replay";
import type { DemoState } from "@/lib/demo/state";
import { demoBanner } from "@/scripts/cli/start";

const DATABASE_URL = "postgresql://postgres:secret@127.0.0.1:5544/vigil";

const state: DemoState = {
  version: 1,
  database: "127.0.0.1:5544/vigil",
  cutoff: "2026-12-04T12:00:00.000Z",
  anchor: "2026-12-06T10:25:00.000Z",
  streamSteps: 605,
  position: 41,
  backfilled: true,
  updatedAt: "2026-12-04T12:03:30.000Z",
};

describe("demoProgress", () => {
  it("starts afresh without a state", () => {
    expect(demoProgress(undefined, DATABASE_URL)).toEqual({ status: "new" });
  });

  it("starts afresh for another database", () => {
    const other = "postgresql://postgres@127.0.0.1:5432/vigil";
    expect(demoProgress(state, other)).toEqual({ status: "new" });
  });

  it("resumes an unfinished backfill", () => {
    const unfinished = { ...state, backfilled: false };
    expect(demoProgress(unfinished, DATABASE_URL)).toEqual({
      status: "backfill",
    });
  });

  it("resumes the stream at its position", () => {
    expect(demoProgress(state, DATABASE_URL)).toEqual({
      status: "stream",
      position: 41,
      streamSteps: 605,
    });
  });

  it("reports a finished replay", () => {
    const finished = { ...state, position: 605 };
    expect(demoProgress(finished, DATABASE_URL)).toEqual({
      status: "finished",
    });
  });
});

describe("demoBanner", () => {
  it("announces a backfill on the first run", () => {
    expect(demoBanner({ status: "new" }, 60)).toBe(
      "Demo replay: backfilling history, then streaming at 60x real time.",
    );
  });

  it("names the step a resumed stream starts at", () => {
    const banner = demoBanner(
      { status: "stream", position: 41, streamSteps: 605 },
      60,
    );
    expect(banner).toBe(
      "Demo replay: resuming the stream at step 42 of 605, at 60x real time.",
    );
  });

  it("says a resumed backfill resumes", () => {
    expect(demoBanner({ status: "backfill" }, 120)).toMatch(
      /^Demo replay: resuming the backfill, then streaming at 120x/,
    );
  });

  it("says a finished replay is finished", () => {
    expect(demoBanner({ status: "finished" }, 60)).toMatch(
      /finished in an earlier run/,
    );
  });
});
