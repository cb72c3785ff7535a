import { stringify as stringifyYaml } from "yaml";

import type { RunbookContent } from "@/lib/runbooks/content";

// A runbook content written back in the library file format: YAML front
// matter and the Markdown body. The runbook page diffs two versions in
// this form, so a change of a rule or a step shows as a changed line.

/** Formats a runbook's slug and content as a data/runbooks/*.md file. */
export function formatRunbookSource(slug: string, content: RunbookContent): string {
  const frontMatter = stringifyYaml({
    slug,
    title: content.title,
    services: content.services,
    metricPattern: content.metricPattern,
    labels: content.labels,
    alertNames: content.alertNames,
    severities: content.severities,
    steps: content.steps,
    automatic: content.automatic,
  });
  return `---\n${frontMatter}---\n${content.body}\n`;
}
