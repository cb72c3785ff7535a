import { describe, expect, it } from "vitest";

import { ConfigError, parseConfig } from "@/lib/config";
import { resolveLogFormat } from "@/lib/logger";

describe("LOG_FORMAT", () => {
  it("is unset by default", () => {
    const config = parseConfig({} as NodeJS.ProcessEnv);
    expect(config.LOG_FORMAT).toBeUndefined();
  });

  it("accepts pretty and json", () => {
    for (const value of ["pretty", "json"] as const) {
      const config = parseConfig({ LOG_FORMAT: value } as NodeJS.ProcessEnv);
      expect(config.LOG_FORMAT).toBe(value);
    }
  });

  it("rejects another value by name", () => {
    const parse = () =>
      parseConfig({ LOG_FORMAT: "text" } as NodeJS.ProcessEnv);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/LOG_FORMAT/);
  });
});

describe("resolveLogFormat", () => {
  it("defaults to pretty on a terminal", () => {
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
  });

  it("defaults to json off a terminal", () => {
    expect(resolveLogFormat(undefined, false)).toBe("json");
  });

  it("keeps an explicit choice", () => {
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("falls back to the default when invalid", () => {
    expect(resolveLogFormat("text", true)).toBe("pretty");
    expect(resolveLogFormat("", false)).toBe("json");
  });
});
