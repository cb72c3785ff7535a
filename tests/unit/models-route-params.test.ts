import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { parsePositiveId, requireEmptyBody } from "@/lib/models/route-params";

function errorOf(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("parsePositiveId", () => {
  it("accepts PostgreSQL integer ids", () => {
    expect(parsePositiveId("1", "id")).toBe(1);
    expect(parsePositiveId("2147483647", "id")).toBe(2147483647);
  });

  it.each(["0", "-1", "01", "1.5", "1e3", "abc", "", "2147483648", " 1"])(
    "rejects %j",
    (value) => {
      const error = errorOf(() => parsePositiveId(value, "version"));
      expect(error.status).toBe(400);
      expect(error.field).toBe("version");
      expect(error.message).toBe(
        `version must be a positive integer of at most 2147483647, got "${value}"`,
      );
    },
  );
});

describe("requireEmptyBody", () => {
  it("accepts an empty body or object", () => {
    expect(() => requireEmptyBody("")).not.toThrow();
    expect(() => requireEmptyBody("  \n")).not.toThrow();
    expect(() => requireEmptyBody("{}")).not.toThrow();
  });

  it("rejects fields, arrays and bad JSON", () => {
    const field = errorOf(() => requireEmptyBody('{"reason": "drift"}'));
    const array = errorOf(() => requireEmptyBody("[]"));
    const broken = errorOf(() => requireEmptyBody("{"));

    expect(field.code).toBe("invalid_field");
    expect(field.field).toBe("reason");
    expect(field.message).toBe('unknown field "reason"; this request takes no fields');
    expect(array.code).toBe("invalid_body");
    expect(broken.code).toBe("invalid_json");
  });
});
