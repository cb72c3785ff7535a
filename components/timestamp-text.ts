// Finds ISO 8601 timestamps inside stored text, such as incident summaries
// and timeline messages that the worker writes, so the UI can show them in
// the same format as every other time on the page.

const ISO_TIMESTAMP =
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

export type TextPart =
  { kind: "text"; text: string } | { kind: "time"; iso: string };

/** Splits text into plain runs and the ISO timestamps between them. */
export function splitTimestamps(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;

  for (const match of text.matchAll(ISO_TIMESTAMP)) {
    const start = match.index;
    if (Number.isNaN(Date.parse(match[0]))) continue;
    if (start > last) {
      parts.push({ kind: "text", text: text.slice(last, start) });
    }
    parts.push({ kind: "time", iso: match[0] });
    last = start + match[0].length;
  }

  if (last < text.length) parts.push({ kind: "text", text: text.slice(last) });
  return parts;
}
