import { describe, expect, it } from "vitest";

import { safeCallbackPath } from "@/lib/auth/callback-url";

describe("safeCallbackPath", () => {
  it.each([
    ["/incidents/4", "/incidents/4"],
    ["/incidents?status=triggered#top", "/incidents?status=triggered#top"],
    ["/services/checkout-api", "/services/checkout-api"],
  ])("keeps the local path %s", (input, expected) => {
    expect(safeCallbackPath(input)).toBe(expected);
  });

  it.each([
    undefined,
    "",
    "incidents",
    "https://evil.example/x",
    "//evil.example/x",
    "/\\evil.example/x",
    "/\t/evil.example/x",
    "/\\\\evil.example",
    "/%5Cevil.example",
  ])("rejects %j", (input) => {
    const result = safeCallbackPath(input);
    expect(new URL(result, "http://vigil.invalid").origin).toBe(
      "http://vigil.invalid",
    );
    expect(result.startsWith("//")).toBe(false);
  });

  it("maps a backslash host to the root", () => {
    expect(safeCallbackPath("/\\127.0.0.1:3201/pwned")).toBe("/");
  });
});
