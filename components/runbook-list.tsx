import { RiBookOpenLine } from "@remixicon/react";
import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

import { formatScore } from "@/components/format";
import type { IncidentDetail } from "@/lib/incidents/queries";

/**
 * Suggested runbooks, best match first. Bodies are Markdown rendered by
 * react-markdown, which ignores raw HTML and drops javascript: links, so a
 * runbook cannot inject script into the page.
 */
export function RunbookList({
  suggestions,
}: {
  suggestions: IncidentDetail["runbooks"];
}) {
  if (suggestions.length === 0) {
    return (
      <p className="text-sm text-slate-500">
        No runbook matches this incident&apos;s service, metric or labels.
      </p>
    );
  }
  return (
    <ul className="divide-y divide-slate-200" data-testid="runbook-list">
      {suggestions.map((suggestion, index) => (
        <li key={suggestion.runbookId} className="py-3 first:pt-0 last:pb-0">
          <details open={index === 0} className="group">
            <summary className="flex cursor-pointer list-none items-start gap-3">
              <RiBookOpenLine
                className="mt-0.5 size-4 shrink-0 text-indigo-500"
                aria-hidden
              />
              <div className="min-w-0 flex-1">
                <p className="text-sm font-medium text-slate-900 group-open:text-indigo-700">
                  {suggestion.runbook.title}
                </p>
                <p className="text-xs text-slate-500">{suggestion.reason}</p>
              </div>
              <span
                className="shrink-0 rounded bg-slate-100 px-1.5 py-0.5 text-xs tabular-nums text-slate-600"
                title="Match score: higher is a closer match"
                data-testid="match-score"
              >
                match score {formatScore(suggestion.score)}
              </span>
            </summary>
            <div className="markdown mt-3 rounded-md border border-slate-200 bg-slate-50 px-4 py-2">
              <Markdown remarkPlugins={[remarkGfm]}>
                {suggestion.runbook.body}
              </Markdown>
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}
