import path from "node:path";

import { describe, expect, it } from "vitest";

import { ConfigError, parseConfig } from "@/lib/config";

/**
 * Returns the values typed as an environment. Next.js's types mark NODE_ENV
 * as required, but parseConfig gives it a default.
 */
function env(values: Record<string, string>): NodeJS.ProcessEnv {
  return values as NodeJS.ProcessEnv;
}

function configError(values: Record<string, string>): string {
  try {
    parseConfig(env(values));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected parseConfig to throw");
}

describe("parseConfig", () => {
  it("applies defaults to an empty environment", () => {
    const config = parseConfig(env({}));
    expect(config.PORT).toBe(3000);
    expect(config.VIGIL_HOST).toBe("127.0.0.1");
    expect(config.VIGIL_EMBEDDED_PG_PORT).toBe(5544);
    expect(config.VIGIL_DEMO).toBe(false);
    expect(config.VIGIL_DEMO_SPEED).toBe(60);
    expect(config.VIGIL_MIN_TRAINING_POINTS).toBe(200);
    expect(config.VIGIL_INGEST_MAX_POINTS).toBe(100_000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve(".vigil"));
  });

  it("coerces numbers and flags", () => {
    const config = parseConfig(
      env({
        PORT: "3161",
        VIGIL_DEMO: "true",
        VIGIL_DEMO_SPEED: "600",
        VIGIL_DATA_DIR: "/tmp/vigil-data",
      }),
    );
    expect(config.PORT).toBe(3161);
    expect(config.VIGIL_DEMO).toBe(true);
    expect(config.VIGIL_DEMO_SPEED).toBe(600);
    expect(config.dataDir).toBe("/tmp/vigil-data");
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "-1"],
    ["PORT", "99999"],
    ["VIGIL_EMBEDDED_PG_PORT", "70000"],
    ["VIGIL_DEMO_SPEED", "0"],
    ["VIGIL_DEMO", "maybe"],
    ["LOG_LEVEL", "verbose"],
    ["NEXTAUTH_SECRET", "too-short"],
    ["VIGIL_ADMIN_EMAIL", "not-an-email"],
    ["VIGIL_ADMIN_PASSWORD", "short"],
    ["NODE_ENV", "staging"],
  ])("names %s when it is %s", (name, value) => {
    const message = configError({ [name]: value });
    expect(message).toContain(`${name}:`);
  });

  it("rejects a DATABASE_URL that is not PostgreSQL", () => {
    const message = configError({ DATABASE_URL: "mysql://root@127.0.0.1/x" });
    expect(message).toContain("DATABASE_URL:");
    expect(message).toContain("postgres://");
  });

  it("lists every invalid variable at once", () => {
    const message = configError({ PORT: "x", LOG_LEVEL: "loud" });
    expect(message).toContain("PORT:");
    expect(message).toContain("LOG_LEVEL:");
  });
});
