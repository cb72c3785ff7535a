import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

// .env.example is the reference for Vigil's configuration, so every
// variable that lib/config.ts validates must appear in it.

function documentedVariables(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(".env.example", "utf8").split("\n")) {
    const match = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

describe(".env.example", () => {
  it("documents every variable of lib/config.ts", () => {
    const source = readFileSync("lib/config.ts", "utf8");
    const schema = source.slice(source.indexOf("z.object({"));
    const names = [...schema.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map(
      (match) => match[1]!,
    );
    expect(names.length).toBeGreaterThan(15);
    const documented = documentedVariables();
    for (const name of names) {
      expect(documented.has(name), `${name} missing from .env.example`).toBe(
        true,
      );
    }
  });
});
