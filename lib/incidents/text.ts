import { IncidentChangeError } from "@/lib/incidents/errors";

/**
 * Trims free text and checks it: at least `min` and at most `max`
 * characters (UTF-16 code units, as JavaScript and the API count them), no
 * NUL character, which PostgreSQL rejects in text columns, and no unpaired
 * UTF-16 surrogate, which it rejects in jsonb. Throws a 400 naming `field`.
 */
export function checkFreeText(
  field: string,
  value: unknown,
  limits: { min: number; max: number },
): string {
  if (typeof value !== "string") {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `${field} must be a string, got ${value === null ? "null" : typeof value}`,
      field,
    );
  }
  const text = value.trim();
  if (text.length < limits.min) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      limits.min === 1
        ? `${field} must not be empty`
        : `${field} must contain at least ${limits.min} characters, got ${text.length}`,
      field,
    );
  }
  if (text.length > limits.max) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `${field} must contain at most ${limits.max} characters, got ${text.length}`,
      field,
    );
  }
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `${field} contains the NUL character (U+0000) at position ${nul}; remove it`,
      field,
    );
  }
  // With the u flag a surrogate pair is one code point, so this class
  // matches only unpaired surrogates.
  const surrogate = /[\uD800-\uDFFF]/u.exec(text);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    throw new IncidentChangeError(
      400,
      "invalid_field",
      `${field} contains an unpaired UTF-16 surrogate (U+${code}) at position ${surrogate.index}; send valid Unicode text`,
      field,
    );
  }
  return text;
}
