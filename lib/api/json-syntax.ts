// Locates the first syntax error in a JSON text. JSON.parse in Node 20 does
// not report a position for every error (for example "Unexpected token 'a',
// "abc" is not valid JSON"), so the API scans the text itself after
// JSON.parse has failed. The scanner follows RFC 8259, the grammar that
// JSON.parse accepts, and uses an explicit stack so deep nesting cannot
// overflow the call stack.

export type JsonSyntaxError = {
  /** Index into the text, in UTF-16 code units like String.prototype.at. */
  position: number;
  reason: string;
};

type Expectation =
  | "value"
  | "value-or-array-end"
  | "key"
  | "key-or-object-end"
  | "colon"
  | "comma-or-end"
  | "end";

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const LITERALS = ["true", "false", "null"];

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= "0" && ch <= "9";
}

function isHexDigit(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

function describeChar(ch: string): string {
  return ch < " " ? JSON.stringify(ch) : `'${ch}'`;
}

function failure(position: number, reason: string): JsonSyntaxError {
  return { position, reason };
}

/** Scans a string literal starting at its opening quote; returns its end. */
function scanString(text: string, start: number): number | JsonSyntaxError {
  let i = start + 1;
  for (;;) {
    const ch = text[i];
    if (ch === undefined) return failure(i, "unterminated string");
    if (ch === '"') return i + 1;
    if (ch < " ") {
      return failure(i, `unescaped control character ${describeChar(ch)}`);
    }
    if (ch !== "\\") {
      i += 1;
      continue;
    }

    const escaped = text[i + 1];
    if (escaped === "u") {
      for (let k = 2; k < 6; k += 1) {
        if (!isHexDigit(text[i + k])) {
          return failure(i + k, "expected 4 hex digits after \\u");
        }
      }
      i += 6;
    } else if (escaped !== undefined && ESCAPES.has(escaped)) {
      i += 2;
    } else {
      return failure(i + 1, "invalid escape sequence in string");
    }
  }
}

/** Scans a number starting at its first character; returns its end. */
function scanNumber(text: string, start: number): number | JsonSyntaxError {
  let i = start;
  if (text[i] === "-") i += 1;
  if (text[i] === "0") {
    i += 1;
  } else if (isDigit(text[i])) {
    while (isDigit(text[i])) i += 1;
  } else {
    return failure(i, "expected a digit");
  }

  if (text[i] === ".") {
    i += 1;
    if (!isDigit(text[i])) return failure(i, "expected a digit after '.'");
    while (isDigit(text[i])) i += 1;
  }

  if (text[i] === "e" || text[i] === "E") {
    i += 1;
    if (text[i] === "+" || text[i] === "-") i += 1;
    if (!isDigit(text[i])) return failure(i, "expected a digit in exponent");
    while (isDigit(text[i])) i += 1;
  }
  return i;
}

/** Scans true, false or null; returns its end. */
function scanLiteral(text: string, start: number): number | JsonSyntaxError {
  const literal = LITERALS.find((word) => word[0] === text[start]);
  if (literal === undefined) {
    return failure(start, `unexpected character ${describeChar(text[start]!)}`);
  }
  for (let k = 1; k < literal.length; k += 1) {
    if (text[start + k] !== literal[k]) {
      return failure(start + k, `invalid literal, expected '${literal}'`);
    }
  }
  return start + literal.length;
}

/**
 * Returns the position and reason of the first syntax error in `text`, or
 * null when the text is valid JSON.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const containers: Array<"object" | "array"> = [];
  let expecting: Expectation = "value";
  let i = 0;
  const afterValue = (): Expectation =>
    containers.length === 0 ? "end" : "comma-or-end";

  for (;;) {
    while (i < text.length && WHITESPACE.has(text[i]!)) i += 1;
    const ch = text[i];
    if (ch === undefined) {
      return expecting === "end"
        ? null
        : failure(i, "unexpected end of input");
    }

    let next: number | JsonSyntaxError;
    switch (expecting) {
      case "end":
        return failure(i, `unexpected ${describeChar(ch)} after the value`);

      case "colon":
        if (ch !== ":") return failure(i, "expected ':' after property name");
        i += 1;
        expecting = "value";
        continue;

      case "key":
      case "key-or-object-end":
        if (ch === "}" && expecting === "key-or-object-end") {
          containers.pop();
          i += 1;
          expecting = afterValue();
          continue;
        }
        if (ch !== '"') {
          return failure(i, "expected a double-quoted property name");
        }
        next = scanString(text, i);
        if (typeof next !== "number") return next;
        i = next;
        expecting = "colon";
        continue;

      case "comma-or-end": {
        const container = containers[containers.length - 1];
        const closer = container === "object" ? "}" : "]";
        if (ch === ",") {
          i += 1;
          expecting = container === "object" ? "key" : "value";
          continue;
        }
        if (ch === closer) {
          containers.pop();
          i += 1;
          expecting = afterValue();
          continue;
        }
        return failure(i, `expected ',' or '${closer}'`);
      }

      case "value":
      case "value-or-array-end":
        if (ch === "]" && expecting === "value-or-array-end") {
          containers.pop();
          i += 1;
          expecting = afterValue();
          continue;
        }
        if (ch === "{" || ch === "[") {
          containers.push(ch === "{" ? "object" : "array");
          i += 1;
          expecting = ch === "{" ? "key-or-object-end" : "value-or-array-end";
          continue;
        }
        if (ch === '"') {
          next = scanString(text, i);
        } else if (ch === "-" || isDigit(ch)) {
          next = scanNumber(text, i);
        } else {
          next = scanLiteral(text, i);
        }
        if (typeof next !== "number") return next;
        i = next;
        expecting = afterValue();
        continue;
    }
  }
}
