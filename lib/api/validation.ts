import { z } from "zod";

import { ApiError, invalidField } from "@/lib/api/errors";

// Turns zod issues into 400 responses that name the exact field, such as
// "series[2].points[5][1] must be a finite number, got \"abc\"". Messages in
// schemas are written as predicates ("must be ...", "is required") so that
// the field path can precede them.

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a zod path as JavaScript-style access: a.b[2].c["x-y"]. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let result = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      result += `[${segment}]`;
    } else {
      const key = String(segment);
      if (IDENTIFIER.test(key)) {
        result += result === "" ? key : `.${key}`;
      } else {
        result += `[${JSON.stringify(key)}]`;
      }
    }
  }
  return result;
}

/** Describes a received value for an error message, shortened to 60 chars. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" && !Number.isFinite(value)) {
    return String(value);
  }
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TYPE_NAMES: Record<string, string> = {
  number: "a finite number",
  int: "an integer",
  string: "a string",
  boolean: "a boolean",
  array: "an array",
  tuple: "an array",
  object: "an object",
  record: "an object",
};

function sizeUnit(origin: string): string {
  if (origin === "string") return "characters";
  if (origin === "array" || origin === "set") return "items";
  return "";
}

/**
 * Zod error map for API input: predicate messages without the field name.
 * Messages set in a schema take precedence over this map.
 */
export const apiErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "is required";
      return (
        `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, ` +
        `got ${describeValue(issue.input)}`
      );
    case "too_small": {
      const unit = sizeUnit(issue.origin);
      return unit
        ? `must contain at least ${issue.minimum} ${unit}`
        : `must be at least ${issue.minimum}`;
    }
    case "too_big": {
      const unit = sizeUnit(issue.origin);
      return unit
        ? `must contain at most ${issue.maximum} ${unit}`
        : `must be at most ${issue.maximum}`;
    }
    case "invalid_value":
      return (
        `must be one of ${issue.values.map(String).join(", ")}, ` +
        `got ${describeValue(issue.input)}`
      );
    case "unrecognized_keys":
      return "is not a known field";
    case "invalid_format":
      return `must match ${issue.pattern ?? issue.format}`;
    default:
      return "is invalid";
  }
};

/** Converts the first zod issue into an ApiError naming the field. */
export function issueToApiError(issue: z.core.$ZodIssue): ApiError {
  let path = issue.path;
  if (issue.code === "unrecognized_keys" && issue.keys[0] !== undefined) {
    path = [...issue.path, issue.keys[0]];
  }
  const field = formatFieldPath(path);
  if (field === "") {
    return new ApiError(
      400,
      "invalid_body",
      `request body ${issue.message}`,
    );
  }
  return invalidField(field, `${field} ${issue.message}`);
}

/** Parses input with a schema, throwing a 400 ApiError on the first issue. */
export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
): z.output<Schema> {
  const result = schema.safeParse(input, { error: apiErrorMap });
  if (result.success) return result.data;
  throw issueToApiError(result.error.issues[0]!);
}
