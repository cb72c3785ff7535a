import { describe, expect, it } from "vitest";

import { parseRunbook, RunbookFormatError } from "@/lib/runbooks/library";

// Front matter fields added with runbook versions: alert names, severities,
// executable steps (validated with the step schema) and the automatic flag.

const FILE = `---
slug: queue-backlog
title: Queue backlog
alertNames: ["QueueBacklog*"]
severities: [sev1, sev2]
automatic: true
steps:
  - id: drain
    title: Start extra consumers
    url: https://ops.example.com/hooks/scale?queue={{incident.id}}
    method: PUT
    retries: 0
---
# Queue backlog

Start more consumers.
`;

describe("parseRunbook front matter", () => {
  it("reads alert names, severities and steps", () => {
    const runbook = parseRunbook(FILE, "queue.md");

    expect(runbook.alertNames).toEqual(["QueueBacklog*"]);
    expect(runbook.severities).toEqual(["sev1", "sev2"]);
    expect(runbook.automatic).toBe(true);
    expect(runbook.steps).toEqual([
      {
        id: "drain",
        title: "Start extra consumers",
        url: "https://ops.example.com/hooks/scale?queue={{incident.id}}",
        method: "PUT",
        retries: 0,
        timeoutSeconds: 10,
      },
    ]);
  });

  it("defaults the new fields", () => {
    const runbook = parseRunbook(
      "---\nslug: a\ntitle: A\n---\nBody.\n",
      "a.md",
    );

    expect(runbook.alertNames).toEqual([]);
    expect(runbook.severities).toEqual([]);
    expect(runbook.steps).toEqual([]);
    expect(runbook.automatic).toBe(false);
  });

  it.each([
    ["an unknown severity", "severities: [sev1, sev2]", "severities: [critical]", /severities\[0\]: must be one of/],
    ["a step without a URL", "    url: https://ops.example.com/hooks/scale?queue={{incident.id}}\n", "", /steps\[0\]\.url: is required/],
    ["a template in the host", "https://ops.example.com/", "https://{{service.slug}}.example.com/", /steps\[0\]\.url: must name a literal host/],
    ["automatic as text", "automatic: true", "automatic: maybe", /automatic: must be a boolean/],
    ["an unknown field", "automatic: true", "automatic: true\nalertname: Foo", /alertname: is not a known field/],
  ])("rejects %s", (_name, from, to, message) => {
    const text = FILE.replace(from, to);

    expect(() => parseRunbook(text, "queue.md")).toThrow(RunbookFormatError);
    expect(() => parseRunbook(text, "queue.md")).toThrow(message);
  });
});
