import { describe, expect, it } from "vitest";

import { contentKey, type RunbookContent } from "@/lib/runbooks/content";
import type { IncidentProfile, JudgedIncident } from "@/lib/runbooks/incident-profile";
import {
  countHistory,
  historyPoints,
  rankSuggestions,
  relateIncidents,
  type RankCandidate,
} from "@/lib/runbooks/rank";
import { matchRunbook } from "@/lib/runbooks/rules";
import { buildSimilarityIndex, tokenize } from "@/lib/runbooks/similarity";

// Ranking parts that need no database: alert name and severity rules, BM25
// text similarity, helpful history and their sum with its breakdown.

function profile(overrides: Partial<IncidentProfile> = {}): IncidentProfile {
  return {
    incidentId: 1,
    serviceSlug: "checkout",
    metricName: null,
    alertName: "HighLatency",
    severity: "sev2",
    labels: { alertname: "HighLatency" },
    text: "HighLatency on checkout\np99 latency above 2 s",
    ...overrides,
  };
}

function candidate(slug: string, overrides: Partial<RankCandidate> = {}): RankCandidate {
  return {
    id: slug.length * 10 + slug.charCodeAt(0),
    slug,
    title: slug,
    services: [],
    metricPattern: null,
    labels: {},
    alertNames: [],
    severities: [],
    version: 1,
    ...overrides,
  };
}

describe("matchRunbook alert and severity rules", () => {
  const target = {
    serviceSlug: "checkout",
    metricName: null,
    labels: {},
    alertName: "HighLatency",
    severity: "sev2" as const,
  };

  it.each([
    ["exact alert name", { alertNames: ["HighLatency"] }, 3, "alert HighLatency"],
    ["alert glob", { alertNames: ["High*"] }, 2.04, "alert matches High*"],
    ["best of two globs", { alertNames: ["*", "HighLat*"] }, 2.07, "alert matches HighLat*"],
    ["severity", { severities: ["sev1", "sev2"] as const }, 1, "severity sev2"],
  ])("scores %s", (_name, rules, score, reason) => {
    const match = matchRunbook(candidate("r", rules as Partial<RankCandidate>), target);

    expect(match).not.toBeNull();
    expect(match!.score).toBeCloseTo(score, 10);
    expect(match!.reason).toBe(reason);
  });

  it.each([
    ["another alert", { alertNames: ["DiskFull"] }, target],
    ["another severity", { severities: ["sev1"] as const }, target],
    ["a detector incident", { alertNames: ["High*"] }, { ...target, alertName: null }],
    ["a metric rule on an alert", { metricPattern: "*" }, target],
  ])("rejects %s", (_name, rules, matchTarget) => {
    expect(matchRunbook(candidate("r", rules as Partial<RankCandidate>), matchTarget)).toBeNull();
  });
});

describe("tokenize", () => {
  it("splits identifiers and stems words", () => {
    const tokens = tokenize("rds_cpu_utilization on orders-db: queries slowed");

    expect(tokens).toContain("rds");
    expect(tokens).toContain("cpu");
    expect(tokens).toContain("order");
    expect(tokens).toContain("queri");
    expect(tokens).not.toContain("on");
  });
});

describe("buildSimilarityIndex", () => {
  const documents = [
    "Database CPU high or slow queries on PostgreSQL",
    "Disk write surge on EBS volumes",
    "Checkout payment failures from the provider",
  ].map(tokenize);
  const index = buildSimilarityIndex(documents);

  it("ranks the closest document first", () => {
    const query = tokenize("orders-db rds_cpu_utilization high, slow queries");
    const scores = documents.map((_, position) => index.similarityTo(query, position));

    expect(scores[0]).toBeGreaterThan(0.3);
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[0]).toBeGreaterThan(scores[2]!);
    for (const score of scores) expect(score).toBeLessThanOrEqual(1);
  });

  it("returns 0 for no shared words", () => {
    expect(index.similarityTo(tokenize("kafka consumer lag"), 1)).toBe(0);
  });

  it("returns 0 for an empty corpus", () => {
    expect(buildSimilarityIndex([]).similarityTo(tokenize("cpu"), 0)).toBe(0);
  });

  it("compares two incidents with unknown words", () => {
    const a = tokenize("kafka consumer lag on orders");
    expect(index.similarityBetween(a, a)).toBeCloseTo(1, 3);
    expect(index.similarityBetween(a, tokenize("disk full"))).toBe(0);
  });
});

describe("historyPoints", () => {
  it.each([
    [0, 0, 0],
    [1, 0, 2],
    [3, 0, 3],
    [0, 1, -2],
    [2, 2, 0],
  ])("gives %i helpful, %i not helpful %d points", (helpful, unhelpful, points) => {
    expect(historyPoints(helpful, unhelpful)).toBeCloseTo(points, 10);
  });
});

describe("relateIncidents", () => {
  const never = () => 0;

  it("relates the same service and alert", () => {
    expect(relateIncidents(profile(), profile({ incidentId: 2 }), never)).toBe("same");
  });

  it("relates the same service and metric", () => {
    const detector = profile({ alertName: null, metricName: "cpu" });
    expect(relateIncidents(detector, { ...detector, incidentId: 2 }, never)).toBe("same");
  });

  it("relates similar text on another service", () => {
    const other = profile({ incidentId: 2, serviceSlug: "orders", alertName: "Other" });
    expect(relateIncidents(profile(), other, () => 0.6)).toBe("text");
    expect(relateIncidents(profile(), other, () => 0.4)).toBeNull();
  });
});

describe("rankSuggestions", () => {
  const candidates = [
    candidate("triage", { title: "Latency triage", alertNames: ["HighLatency"] }),
    candidate("dependency", { title: "Dependency latency", alertNames: ["High*"] }),
    candidate("disk", { title: "Disk full", metricPattern: "disk_*" }),
    candidate("orders-latency", { title: "p99 latency above 2 s on checkout", services: ["orders"] }),
  ];
  const bodies = [
    "Latency triage: check the p99 dashboard.",
    "Dependency latency: database and payment provider.",
    "Disk full: free space.",
    "p99 latency above 2 s on checkout: HighLatency.",
  ];
  const index = buildSimilarityIndex(bodies.map(tokenize));
  const current = profile();
  const incidentTokens = tokenize(current.text);

  function rank(history = new Map()) {
    return rankSuggestions({ candidates, profile: current, incidentTokens, index, history });
  }

  it("keeps a breakdown that sums to the score", () => {
    for (const suggestion of rank()) {
      const { rules, similarity, history, total } = suggestion.breakdown;
      expect(total).toBeCloseTo(rules.points + similarity.points + history.points, 3);
      expect(suggestion.score).toBe(total);
      expect(similarity.points).toBeCloseTo(4 * similarity.value, 3);
    }
  });

  it("suggests a close text without a rule match", () => {
    const ranked = rank();
    const slugs = ranked.map((suggestion) => suggestion.slug);
    const textOnly = ranked.find((suggestion) => suggestion.slug === "orders-latency");

    expect(slugs).not.toContain("disk");
    expect(textOnly).toBeDefined();
    expect(textOnly!.breakdown.rules.allMatched).toBe(false);
    expect(textOnly!.reason).toMatch(/^text similarity [01]\.\d\d$/);
  });

  it("moves a helpful runbook up", () => {
    const before = rank().map((suggestion) => suggestion.slug);
    expect(before.indexOf("triage")).toBeLessThan(before.indexOf("dependency"));

    const history = new Map([
      [candidates[1]!.id, { helpful: 2, unhelpful: 0, incidents: new Set([7, 8]) }],
      [candidates[0]!.id, { helpful: 0, unhelpful: 1, incidents: new Set([7]) }],
    ]);
    const after = rank(history);
    const slugs = after.map((suggestion) => suggestion.slug);

    expect(slugs.indexOf("dependency")).toBeLessThan(slugs.indexOf("triage"));
    const dependency = after.find((suggestion) => suggestion.slug === "dependency")!;
    expect(dependency.breakdown.history).toEqual({ helpful: 2, unhelpful: 0, incidents: 2, points: 2.667 });
  });

  it("suggests a runbook only history raised", () => {
    const history = new Map([[candidates[2]!.id, { helpful: 1, unhelpful: 0, incidents: new Set([7]) }]]);
    const disk = rank(history).find((suggestion) => suggestion.slug === "disk");

    expect(disk).toBeDefined();
    expect(disk!.reason).toBe("helpful on 1 similar incident");
  });

  it("keeps at most five", () => {
    const many = Array.from({ length: 8 }, (_, position) => candidate(`generic-${position}`));
    const manyIndex = buildSimilarityIndex(many.map(() => tokenize("triage")));
    const ranked = rankSuggestions({
      candidates: many,
      profile: current,
      incidentTokens,
      index: manyIndex,
      history: new Map(),
    });

    expect(ranked).toHaveLength(5);
    expect(ranked.map((suggestion) => suggestion.slug)).toEqual([
      "generic-0",
      "generic-1",
      "generic-2",
      "generic-3",
      "generic-4",
    ]);
  });
});

describe("countHistory", () => {
  it("counts marks of similar incidents only", () => {
    const judged: JudgedIncident[] = [
      { profile: profile({ incidentId: 2 }), marks: [{ runbookId: 5, helpful: true }, { runbookId: 6, helpful: false }] },
      { profile: profile({ incidentId: 3 }), marks: [{ runbookId: 5, helpful: true }] },
      {
        profile: profile({ incidentId: 4, serviceSlug: "billing", alertName: "DiskFull", text: "disk" }),
        marks: [{ runbookId: 5, helpful: false }],
      },
    ];

    const counts = countHistory(profile(), judged, () => 0);

    expect(counts.get(5)).toEqual({ helpful: 2, unhelpful: 0, incidents: new Set([2, 3]) });
    expect(counts.get(6)).toEqual({ helpful: 0, unhelpful: 1, incidents: new Set([2]) });
  });
});

describe("contentKey", () => {
  const base: RunbookContent = {
    title: "T",
    body: "B",
    services: ["b", "a"],
    metricPattern: null,
    labels: { z: "1", a: "2" },
    alertNames: [],
    severities: ["sev2", "sev1"],
    steps: [],
    automatic: false,
  };

  it("ignores list and key order", () => {
    const reordered: RunbookContent = {
      ...base,
      services: ["a", "b"],
      labels: { a: "2", z: "1" },
      severities: ["sev1", "sev2"],
    };
    expect(contentKey(reordered)).toBe(contentKey(base));
  });

  it("sees a changed flag", () => {
    expect(contentKey({ ...base, automatic: true })).not.toBe(contentKey(base));
  });
});
