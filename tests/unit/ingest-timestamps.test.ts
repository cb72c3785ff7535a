import { describe, expect, it } from "vitest";

import {
  checkTimestamp,
  parseRfc3339,
  timestampLimits,
} from "@/lib/ingest/timestamps";

describe("parseRfc3339", () => {
  it.each([
    ["2026-12-04T10:00:00Z", "2026-12-04T10:00:00.000Z"],
    ["2026-12-04t10:00:00z", "2026-12-04T10:00:00.000Z"],
    ["2026-12-04T11:00:00.250+01:00", "2026-12-04T10:00:00.250Z"],
    ["2026-12-04T07:30:00-02:30", "2026-12-04T10:00:00.000Z"],
    ["2026-12-04T10:00:00.123456789Z", "2026-12-04T10:00:00.123Z"],
    ["2026-12-04T10:00:00.5Z", "2026-12-04T10:00:00.500Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
    ["0050-01-01T00:00:00Z", "0050-01-01T00:00:00.000Z"],
  ])("parses %s", (text, expected) => {
    expect(new Date(parseRfc3339(text)!).toISOString()).toBe(expected);
  });

  it.each([
    "2026-12-04T10:00:00",
    "2026-12-04 10:00:00Z",
    "2026-12-04",
    "2025-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-12-04T24:00:00Z",
    "2026-12-04T10:60:00Z",
    "2026-12-04T10:00:00+24:00",
    "2026-12-04T10:00:00.Z",
    "1764842400000",
  ])("rejects %s", (text) => {
    expect(parseRfc3339(text)).toBeNull();
  });
});

describe("checkTimestamp", () => {
  const now = Date.parse("2026-12-04T12:00:00Z");
  const limits = timestampLimits(now, 365, 10);

  it("accepts epoch milliseconds", () => {
    expect(checkTimestamp(now - 1000, limits)).toEqual({
      ok: true,
      ms: now - 1000,
    });
  });

  it("accepts the window edges", () => {
    expect(checkTimestamp(now - 365 * 86_400_000, limits).ok).toBe(true);
    expect(checkTimestamp(now + 10 * 60_000, limits).ok).toBe(true);
  });

  it("rejects just past the edges", () => {
    expect(checkTimestamp(now - 365 * 86_400_000 - 1, limits).ok).toBe(false);
    expect(checkTimestamp(now + 10 * 60_000 + 1, limits).ok).toBe(false);
  });

  it.each([
    [1.5, "got 1.5"],
    [null, "got null"],
    [true, "got true"],
    [[1], "got an array"],
    [{}, "got an object"],
    [Number.MAX_SAFE_INTEGER + 2, "got 9007199254740992"],
  ])("rejects %j naming it", (input, received) => {
    const result = checkTimestamp(input, limits);

    expect(result).toEqual({
      ok: false,
      message:
        "must be an RFC 3339 timestamp with a time zone (such as " +
        `2026-12-04T10:00:00Z) or epoch milliseconds, ${received}`,
    });
  });

  it("hints at epoch seconds", () => {
    const result = checkTimestamp(Math.floor(now / 1000), limits);

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toMatch(
      /older than 365 days .*looks like epoch seconds, send milliseconds$/,
    );
  });
});
