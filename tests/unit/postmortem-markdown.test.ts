import { describe, expect, it } from "vitest";

import {
  escapeInline,
  renderPostmortemMarkdown,
  type PostmortemExport,
} from "@/lib/incidents/postmortem-markdown";

const t = (minute: number) => new Date(Date.UTC(2026, 10, 2, 10, minute));

function exportData(overrides: Partial<PostmortemExport> = {}): PostmortemExport {
  return {
    incident: {
      id: 7,
      title: "Errors on *checkout*",
      status: "resolved",
      severity: "sev1",
      source: "alert",
      serviceName: "Checkout",
      serviceSlug: "checkout",
      openedAt: t(0),
      acknowledgedAt: t(3),
      resolvedAt: t(45),
      assigneeName: null,
    },
    postmortem: null,
    events: [
      { kind: "opened", actorType: "worker", actorName: "alert receiver", message: "Opened", createdAt: t(0) },
      { kind: "acknowledged", actorType: "user", actorName: "Alice", message: "Alice acknowledged the incident", createdAt: t(3) },
      { kind: "notification_sent", actorType: "worker", actorName: "notifier", message: "Sent", createdAt: t(4) },
      { kind: "resolved", actorType: "user", actorName: "Bob", message: "Bob resolved the incident", createdAt: t(45) },
    ],
    ...overrides,
  };
}

describe("escapeInline", () => {
  it("flattens and escapes", () => {
    expect(escapeInline("a | b\n*c* [d](e) `f` <g> #h")).toBe(
      "a \\| b \\*c\\* \\[d\\](e) \\`f\\` \\<g\\> \\#h",
    );
  });
});

describe("renderPostmortemMarkdown", () => {
  it("renders facts and an unwritten postmortem", () => {
    const markdown = renderPostmortemMarkdown(exportData(), t(60));

    expect(markdown.startsWith("# Postmortem: Errors on \\*checkout\\* (incident #7)\n")).toBe(true);
    expect(markdown).toContain("| Opened | 2026-11-02 10:00:00 UTC |");
    expect(markdown).toContain("| Acknowledged | 2026-11-02 10:03:00 UTC by Alice |");
    expect(markdown).toContain("| Resolved | 2026-11-02 10:45:00 UTC by Bob |");
    expect(markdown).toContain("| Duration | 45 min |");
    expect(markdown).toContain("| Time to acknowledge (MTTA) | 3 min |");
    expect(markdown).toContain("| Reopened | 0 times |");
    expect(markdown).toContain("| Assignee | nobody |");
    expect(markdown).toContain("## Summary\n\n_Not written yet._");
    expect(markdown).toContain("- 2026-11-02 10:03:00 UTC, **Alice**: Alice acknowledged the incident");
    expect(markdown).toContain("**alert receiver (worker)**: Opened");
    expect(markdown).not.toContain("Sent");
    expect(markdown).toContain("_No postmortem written yet. Exported at 2026-11-02 11:00:00 UTC._");
  });

  it("shortens a long timeline", () => {
    const events = Array.from({ length: 60 }, (_, i) => ({
      kind: "note",
      actorType: "user",
      actorName: "Alice",
      message: `note ${i}`,
      createdAt: t(i),
    }));

    const markdown = renderPostmortemMarkdown(exportData({ events }), t(60));

    expect(markdown).toContain("note 49");
    expect(markdown).not.toContain("note 50");
    expect(markdown).toContain("_10 later events are on the incident page._");
  });
});
