import { RiBookOpenLine } from "@remixicon/react";
import Link from "next/link";
import Markdown from "react-markdown";
import remarkGfm from "remark-gfm";

import { formatScore } from "@/components/format";
import { RunbookFeedbackButtons } from "@/components/runbook-feedback-buttons";
import { hasRole, getSessionUser } from "@/lib/auth/session";
import { getPool } from "@/lib/db";
import type { IncidentDetail } from "@/lib/incidents/queries";
import { listRunbookFeedback } from "@/lib/runbooks/feedback";
import type { SuggestionBreakdown } from "@/lib/runbooks/rank";

type Suggestion = IncidentDetail["runbooks"][number];

/** Reads a stored breakdown; null for suggestions stored before breakdowns. */
function readBreakdown(value: unknown): SuggestionBreakdown | null {
  if (value === null || typeof value !== "object") return null;
  const breakdown = value as Partial<SuggestionBreakdown>;
  if (!breakdown.rules || !breakdown.similarity || !breakdown.history) return null;
  return breakdown as SuggestionBreakdown;
}

function signed(points: number): string {
  const text = formatScore(Math.abs(points));
  return points < 0 ? `−${text}` : `+${text}`;
}

/** Renders the "why suggested" list: rule points, text similarity and history. */
function WhySuggested({ suggestion }: { suggestion: Suggestion }) {
  const breakdown = readBreakdown(suggestion.breakdown);
  if (!breakdown) {
    return <p className="text-xs text-slate-500">{suggestion.reason}</p>;
  }
  const { rules, similarity, history } = breakdown;
  return (
    <dl className="grid grid-cols-[auto_1fr_auto] gap-x-3 gap-y-1 text-xs" data-testid="why-suggested">
      <dt className="text-slate-500">Rules</dt>
      <dd className="text-slate-700">
        {rules.allMatched ? rules.matched.join(", ") : "no rule match"}
      </dd>
      <dd className="text-right tabular-nums text-slate-600">{signed(rules.points)}</dd>

      <dt className="text-slate-500">Text similarity</dt>
      <dd className="text-slate-700">{formatScore(similarity.value)} of 1</dd>
      <dd className="text-right tabular-nums text-slate-600">{signed(similarity.points)}</dd>

      <dt className="text-slate-500">Helpful before</dt>
      <dd className="text-slate-700">
        {history.incidents === 0
          ? "no marks on similar resolved incidents"
          : `${history.helpful} helpful, ${history.unhelpful} not helpful on ${history.incidents} similar resolved incident${history.incidents === 1 ? "" : "s"}`}
      </dd>
      <dd className="text-right tabular-nums text-slate-600">{signed(history.points)}</dd>
    </dl>
  );
}

/**
 * Suggested runbooks, best match first, each with why it was suggested and
 * helpful / not helpful buttons. Bodies are Markdown rendered by
 * react-markdown, which ignores raw HTML and drops javascript: links, so a
 * runbook cannot inject script into the page.
 */
export async function RunbookList({
  suggestions,
}: {
  suggestions: IncidentDetail["runbooks"];
}) {
  if (suggestions.length === 0) {
    return (
      <p className="text-sm text-slate-500">
        No runbook matches this incident&apos;s service, metric, alert or
        text.
      </p>
    );
  }

  const incidentId = suggestions[0]!.incidentId;
  const pool = getPool();
  const [user, marks, incident] = await Promise.all([
    getSessionUser(),
    listRunbookFeedback(pool, incidentId),
    pool.query<{ status: string }>("SELECT status FROM incident WHERE id = $1", [incidentId]),
  ]);
  const canMark = user !== null && hasRole(user.role, "responder");
  const resolved = incident.rows[0]?.status === "resolved";
  const mine = (runbookId: number) =>
    marks.find(
      (mark) => mark.runbookId === runbookId && mark.actorType === "user" && mark.actorId === user?.id,
    )?.helpful ?? null;
  const markedAny = user !== null && marks.some((mark) => mark.actorType === "user" && mark.actorId === user.id);

  return (
    <div className="space-y-3">
      {resolved && canMark && !markedAny && (
        <p className="rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-800" data-testid="runbook-feedback-prompt">
          This incident is resolved. Mark the runbooks that helped, or did
          not, so that similar incidents rank them better.
        </p>
      )}
      <ul className="divide-y divide-slate-200" data-testid="runbook-list">
        {suggestions.map((suggestion, index) => {
          const runbookMarks = marks.filter((mark) => mark.runbookId === suggestion.runbookId);
          return (
            <li
              key={suggestion.runbookId}
              className="space-y-2 py-3 first:pt-0 last:pb-0"
              data-testid="runbook-suggestion"
              data-slug={suggestion.runbook.slug}
            >
              <details open={index === 0} className="group">
                <summary className="flex cursor-pointer list-none items-start gap-3">
                  <RiBookOpenLine className="mt-0.5 size-4 shrink-0 text-indigo-500" aria-hidden />
                  <div className="min-w-0 flex-1">
                    <p className="text-sm font-medium text-slate-900 group-open:text-indigo-700">
                      {suggestion.runbook.title}
                    </p>
                    <p className="text-xs text-slate-500">
                      {suggestion.reason || "suggested by text similarity"}
                      {suggestion.version !== null && <> · version {suggestion.version}</>}
                    </p>
                  </div>
                  <span
                    className="shrink-0 rounded bg-slate-100 px-1.5 py-0.5 text-xs tabular-nums text-slate-600"
                    title="Match score: rule points plus text similarity and helpful history; higher is a closer match"
                    data-testid="match-score"
                  >
                    match score {formatScore(suggestion.score)}
                  </span>
                </summary>
                <div className="mt-3 space-y-3">
                  <div className="rounded-md border border-slate-200 px-3 py-2">
                    <p className="mb-1 text-xs font-medium text-slate-700">Why suggested</p>
                    <WhySuggested suggestion={suggestion} />
                  </div>
                  <div className="markdown rounded-md border border-slate-200 bg-slate-50 px-4 py-2">
                    <Markdown remarkPlugins={[remarkGfm]}>{suggestion.runbook.body}</Markdown>
                  </div>
                  <Link
                    href={`/runbooks/${suggestion.runbook.slug}`}
                    prefetch={false}
                    className="text-xs text-indigo-600 hover:underline"
                  >
                    Open the runbook page
                  </Link>
                </div>
              </details>
              <RunbookFeedbackButtons
                incidentId={incidentId}
                runbookId={suggestion.runbookId}
                title={suggestion.runbook.title}
                mine={mine(suggestion.runbookId)}
                helpfulCount={runbookMarks.filter((mark) => mark.helpful).length}
                unhelpfulCount={runbookMarks.filter((mark) => !mark.helpful).length}
                canMark={canMark}
              />
            </li>
          );
        })}
      </ul>
    </div>
  );
}
