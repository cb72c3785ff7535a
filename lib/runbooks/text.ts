import type { z } from "zod";

// Checks for text that a runbook, a step or an allowlist entry stores.
// PostgreSQL rejects the NUL character in text columns and unpaired UTF-16
// surrogates in jsonb, so such input gets a 400 naming the field instead
// of a database error. lib/incidents/text.ts applies the same rules to
// incident text.

/** Returns why `text` cannot be stored, or null when it can. */
export function storedTextProblem(text: string): string | null {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    return `contains the NUL character (U+0000) at position ${nul}; remove it`;
  }
  // With the u flag a surrogate pair is one code point, so this class
  // matches only unpaired surrogates.
  const surrogate = /[\uD800-\uDFFF]/u.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `contains an unpaired UTF-16 surrogate (U+${code}) at position ${surrogate.index}; send valid Unicode text`;
  }
  return null;
}

/** Refinement for one string field: adds an issue when it cannot be stored. */
export function checkStoredText(text: string, context: z.RefinementCtx): void {
  const problem = storedTextProblem(text);
  if (problem) context.addIssue({ code: "custom", message: problem });
}

/**
 * Adds an issue for every string and object key inside `value` that cannot
 * be stored, with its path below `path`. Used for JSON values such as a
 * step's body and a runbook's labels.
 */
export function checkStoredJson(
  value: unknown,
  context: z.RefinementCtx,
  path: PropertyKey[] = [],
): void {
  if (typeof value === "string") {
    const problem = storedTextProblem(value);
    if (problem) context.addIssue({ code: "custom", path, message: problem });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkStoredJson(item, context, [...path, index]));
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const problem = storedTextProblem(key);
      if (problem) {
        context.addIssue({ code: "custom", path: [...path, key], message: `has a key that ${problem}` });
      }
      checkStoredJson(item, context, [...path, key]);
    }
  }
}
