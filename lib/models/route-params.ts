import { parseJsonText } from "@/lib/api/body";
import { ApiError, invalidField } from "@/lib/api/errors";

// Parsing of the path parameters and bodies of the model routes.

const POSITIVE_INTEGER = /^[1-9][0-9]{0,9}$/;
const MAX_INT4 = 2_147_483_647;

/** Parses a path parameter that must be a PostgreSQL integer id above 0. */
export function parsePositiveId(value: string | undefined, field: string): number {
  if (value === undefined || !POSITIVE_INTEGER.test(value) || Number(value) > MAX_INT4) {
    throw invalidField(
      field,
      `${field} must be a positive integer of at most ${MAX_INT4}, got "${value ?? ""}"`,
    );
  }
  return Number(value);
}

/**
 * Checks that a request body that takes no fields is empty or an empty
 * JSON object, so that a client sending options this route ignores learns
 * about it instead of silently getting the default. Bytes must be UTF-8.
 */
export function requireEmptyBody(body: Uint8Array | string): void {
  const text = typeof body === "string" ? body : decodeUtf8Json(body);
  if (text.trim() === "") return;
  const parsed = parseJsonText(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ApiError(400, "invalid_body", "the body must be empty or a JSON object");
  }
  const unknown = Object.keys(parsed)[0];
  if (unknown !== undefined) {
    throw invalidField(unknown, `unknown field "${unknown}"; this request takes no fields`);
  }
}

function decodeUtf8Json(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // The same code and message as the JSON bodies of the other routes.
    throw new ApiError(
      400,
      "invalid_json",
      "request body is not valid UTF-8; send JSON encoded as UTF-8",
    );
  }
}
