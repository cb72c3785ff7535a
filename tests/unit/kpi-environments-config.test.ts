import { describe, expect, it } from "vitest";

import { ConfigError, parseConfig } from "@/lib/config";

// VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS: the deployment environments that the
// deployment KPIs count.

/**
 * Returns the values typed as an environment. Next.js's types mark NODE_ENV
 * as required, but parseConfig gives it a default.
 */
function env(values: Record<string, string>): NodeJS.ProcessEnv {
  return values as NodeJS.ProcessEnv;
}

function environments(value: string | undefined): string[] | null {
  const values: Record<string, string> = value === undefined ? {} : { VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS: value };
  return parseConfig(env(values)).VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS;
}

function configError(value: string): string {
  try {
    parseConfig(env({ VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS: value }));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected parseConfig to throw");
}

describe("VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS", () => {
  it("defaults to production", () => {
    expect(environments(undefined)).toEqual(["production"]);
  });

  it("splits a comma-separated list", () => {
    expect(environments(" production, canary ,production")).toEqual(["production", "canary"]);
  });

  it("maps * to every environment", () => {
    expect(environments("*")).toBeNull();
    expect(environments("production,*")).toBeNull();
  });

  it("rejects an empty list", () => {
    const message = configError(" , ");
    expect(message).toContain("VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS");
    expect(message).toContain("must name at least one environment");
  });

  it("rejects an invalid name", () => {
    const message = configError("production,pre prod");
    expect(message).toContain("VIGIL_KPI_DEPLOYMENT_ENVIRONMENTS");
    expect(message).toContain("comma-separated environment names");
  });
});
