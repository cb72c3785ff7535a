import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// No Docker engine runs in CI, so this checks what can be checked without
// one: the compose file parses, names its three services and passes only
// variables that .env.example documents.

type ComposeService = {
  image?: string;
  build?: unknown;
  env_file?: string | string[];
  environment?: Record<string, string>;
  command?: string | string[];
  volumes?: string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
};

const composeText = readFileSync("docker-compose.yml", "utf8");
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;

/** Names of the variables .env.example documents, set or commented out. */
function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(".env.example", "utf8").split("\n")) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

function commandText(service: ComposeService): string {
  const command = service.command ?? "";
  return Array.isArray(command) ? command.join(" ") : command;
}

describe("docker-compose.yml", () => {
  it("defines postgres, web and worker", () => {
    expect(Object.keys(services).sort()).toEqual(["postgres", "web", "worker"]);
  });

  it("runs PostgreSQL 16 with a volume and a healthcheck", () => {
    const postgres = services.postgres!;
    expect(postgres.image).toBe("postgres:16");
    expect(postgres.volumes?.[0]).toMatch(
      /^postgres-data:\/var\/lib\/postgresql\/data$/,
    );
    expect(compose.volumes).toHaveProperty("postgres-data");
    expect(JSON.stringify(postgres.healthcheck?.test)).toContain("pg_isready");
  });

  it("gives web and worker the database and the secret", () => {
    for (const name of ["web", "worker"]) {
      const environment = services[name]!.environment ?? {};
      expect(environment.DATABASE_URL, name).toMatch(
        /^postgresql:\/\/vigil:.*@postgres:5432\/vigil$/,
      );
      expect(environment.NEXTAUTH_SECRET, name).toContain("${NEXTAUTH_SECRET");
      expect(services[name]!.env_file, name).toBe(".env");
      expect(services[name]!.depends_on?.postgres?.condition, name).toBe(
        "service_healthy",
      );
    }
  });

  it("migrates before the web server starts", () => {
    const web = services.web!;
    expect(web.environment?.VIGIL_HOST).toBe("0.0.0.0");
    const command = commandText(web);
    expect(command.indexOf("npm run vigil -- migrate")).toBeGreaterThanOrEqual(
      0,
    );
    expect(command.indexOf("next start")).toBeGreaterThan(
      command.indexOf("npm run vigil -- migrate"),
    );
    expect(command).toContain("-H 0.0.0.0");
  });

  it("runs the worker with npm run worker", () => {
    expect(commandText(services.worker!)).toBe("npm run worker");
  });

  it("passes only documented variables", () => {
    const documented = documentedVariables();
    const passed = new Set<string>();
    for (const service of Object.values(services)) {
      for (const name of Object.keys(service.environment ?? {}))
        passed.add(name);
    }
    for (const match of composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) {
      passed.add(match[1]!);
    }
    // Variables of the postgres image itself, fixed in the compose file.
    for (const name of ["POSTGRES_USER", "POSTGRES_DB"]) passed.delete(name);

    expect(passed.size).toBeGreaterThan(0);
    for (const name of passed) {
      expect(documented.has(name), `${name} missing from .env.example`).toBe(
        true,
      );
    }
  });
});
