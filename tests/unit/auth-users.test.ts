import { describe, expect, it } from "vitest";

import { newUserSchema } from "@/lib/users";

const base = { email: "ada@example.com", name: "Ada", role: "admin" as const };

describe("newUserSchema password", () => {
  it("accepts 72 bytes", () => {
    const result = newUserSchema.safeParse({ ...base, password: "a".repeat(72) });
    expect(result.success).toBe(true);
  });

  it("rejects 73 bytes", () => {
    const result = newUserSchema.safeParse({ ...base, password: "a".repeat(73) });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path).toEqual(["password"]);
    expect(result.error!.issues[0]!.message).toBe(
      "must be at most 72 bytes in UTF-8 (bcrypt's limit)",
    );
  });

  it("counts bytes, not characters", () => {
    // 25 three-byte characters are 75 bytes.
    const result = newUserSchema.safeParse({ ...base, password: "€".repeat(25) });
    expect(result.success).toBe(false);
  });

  it("rejects fewer than 12 characters", () => {
    const result = newUserSchema.safeParse({ ...base, password: "short" });
    expect(result.success).toBe(false);
  });
});
