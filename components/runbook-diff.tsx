import { diffLines } from "diff";

/**
 * Line diff of two runbook sources (front matter and body), with added
 * lines in green and removed lines in red.
 */
export function RunbookDiff({ before, after }: { before: string; after: string }) {
  const parts = diffLines(before, after);
  const changed = parts.some((part) => part.added || part.removed);
  if (!changed) return <p className="text-sm text-slate-500">The two versions are the same.</p>;
  return (
    <pre className="overflow-x-auto rounded-md border border-slate-200 bg-white p-0 text-xs" data-testid="runbook-diff">
      {parts.map((part, index) => {
        const lines = part.value.replace(/\n$/, "").split("\n");
        let prefix = " ";
        let style = "text-slate-500";
        if (part.added) {
          prefix = "+";
          style = "bg-emerald-50 text-emerald-800";
        } else if (part.removed) {
          prefix = "-";
          style = "bg-rose-50 text-rose-800";
        }
        return lines.map((line, lineIndex) => (
          <div key={`${index}-${lineIndex}`} className={`px-3 ${style}`}>
            {prefix} {line}
          </div>
        ));
      })}
    </pre>
  );
}
