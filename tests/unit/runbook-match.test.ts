import { describe, expect, it } from "vitest";

import {
  globMatches,
  matchRunbook,
  rankRunbooks,
  type MatchTarget,
  type RunbookRules,
} from "@/lib/runbooks/match";

// Runbook ranking: services, metric glob and labels must all match when
// set, and more specific rules rank higher.

function runbook(
  slug: string,
  rules: Partial<Pick<RunbookRules, "services" | "metricPattern" | "labels">>,
  id = slug.length,
): RunbookRules {
  return {
    id,
    slug,
    title: slug,
    services: rules.services ?? [],
    metricPattern: rules.metricPattern ?? null,
    labels: rules.labels ?? {},
  };
}

const checkoutCpu: MatchTarget = {
  serviceSlug: "checkout",
  metricName: "ec2_cpu_utilization",
  labels: { region: "us-east-1", instance: "i-1" },
};

describe("matchRunbook", () => {
  it.each([
    ["no rules", {}, 0.1, "generic runbook for any service and metric"],
    ["service", { services: ["checkout", "cart"] }, 4, "service checkout"],
    ["exact metric", { metricPattern: "ec2_cpu_utilization" }, 3, "metric ec2_cpu_utilization"],
    ["metric glob", { metricPattern: "ec2_cpu_*" }, 2.08, "metric matches ec2_cpu_*"],
    ["label", { labels: { region: "us-east-1" } }, 1, "labels region=us-east-1"],
    [
      "service and glob",
      { services: ["checkout"], metricPattern: "ec2_*" },
      6.04,
      "service checkout, metric matches ec2_*",
    ],
  ] as const)("scores a match on %s", (_name, rules, score, reason) => {
    const match = matchRunbook(runbook("r", rules), checkoutCpu);

    expect(match).not.toBeNull();
    expect(match!.score).toBeCloseTo(score, 10);
    expect(match!.reason).toBe(reason);
  });

  it.each([
    ["another service", { services: ["billing"] }],
    ["another metric", { metricPattern: "rds_cpu_*" }],
    ["a partial glob", { metricPattern: "ec2_cpu" }],
    ["another label value", { labels: { region: "eu-west-1" } }],
    ["a missing label", { labels: { team: "payments" } }],
    [
      "one failing rule of several",
      { services: ["checkout"], metricPattern: "elb_*" },
    ],
  ] as const)("rejects %s", (_name, rules) => {
    expect(matchRunbook(runbook("r", rules), checkoutCpu)).toBeNull();
  });
});

describe("rankRunbooks", () => {
  it("ranks specific rules first", () => {
    const runbooks = [
      runbook("generic", {}),
      runbook("cpu-any", { metricPattern: "*cpu*" }),
      runbook("cpu-ec2", { metricPattern: "ec2_cpu_*" }),
      runbook("checkout-cpu", {
        services: ["checkout"],
        metricPattern: "ec2_cpu_*",
      }),
      runbook("billing", { services: ["billing"] }),
    ];

    const ranked = rankRunbooks(runbooks, checkoutCpu).map((m) => m.slug);

    expect(ranked).toEqual(["checkout-cpu", "cpu-ec2", "cpu-any", "generic"]);
  });

  it("breaks ties by slug", () => {
    const runbooks = [runbook("b", {}), runbook("a", {})];

    expect(rankRunbooks(runbooks, checkoutCpu).map((m) => m.slug)).toEqual([
      "a",
      "b",
    ]);
  });

  it("returns nothing when no runbook matches", () => {
    const runbooks = [runbook("billing", { services: ["billing"] })];

    expect(rankRunbooks(runbooks, checkoutCpu)).toEqual([]);
  });
});

describe("globMatches", () => {
  it.each([
    ["ec2_cpu_*", "ec2_cpu_utilization", true],
    ["ec2_cpu_*", "ec2_cpu_", true],
    ["ec2_cpu_*", "rds_ec2_cpu_x", false],
    ["http.requests?", "http.requests1", true],
    ["http.requests?", "httpXrequests1", false],
    ["a+b", "a+b", true],
    ["a+b", "aab", false],
    ["*", "anything", true],
    ["*", "", true],
    ["", "", true],
    ["", "a", false],
    ["?", "", false],
    ["*_bytes_*_total", "node_bytes_in_total", true],
    ["*_bytes_*_total", "node_bytes_in_total_x", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "acb", false],
    ["**x", "yyx", true],
    ["disk_?", "disk_é", true],
  ] as const)("%s on %s is %s", (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it("takes time linear in the name for patterns with many stars", () => {
    // A regular expression built from this glob took 15 s on a name of
    // 35 characters in a check with node, and grows about 13-fold per 5.
    const glob = `${"*a".repeat(12)}*b`;
    expect(globMatches(glob, "a".repeat(2000))).toBe(false);
    expect(globMatches(glob, `${"a".repeat(2000)}b`)).toBe(true);
  });
});
