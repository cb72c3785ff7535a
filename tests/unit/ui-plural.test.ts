import { describe, expect, it } from "vitest";

import { formatCount, pluralize } from "@/components/plural";

const INCIDENT = ["incident", "incidents"] as const;
const OPENED = ["incident opened", "incidents opened"] as const;

describe("pluralize", () => {
  it.each([
    [0, "incidents"],
    [1, "incident"],
    [2, "incidents"],
    [1.5, "incidents"],
  ])("uses the right form for %d", (count, noun) => {
    expect(pluralize(count, INCIDENT)).toBe(noun);
  });
});

describe("formatCount", () => {
  it("keeps a noun phrase singular for one", () => {
    expect(formatCount(1, OPENED)).toBe("1 incident opened");
  });

  it("makes a noun phrase plural for zero", () => {
    expect(formatCount(0, OPENED)).toBe("0 incidents opened");
  });

  it("groups thousands", () => {
    expect(formatCount(1204, INCIDENT)).toBe("1,204 incidents");
  });

  it("uses an irregular plural", () => {
    expect(formatCount(3, ["series", "series"])).toBe("3 series");
  });
});
