import { describe, expect, it } from "vitest";

import { parseJsonText } from "@/lib/api/body";
import { ApiError } from "@/lib/api/errors";
import { findJsonSyntaxError } from "@/lib/api/json-syntax";

describe("findJsonSyntaxError", () => {
  it.each([
    ['{"a": 1,}', 8, "expected a double-quoted property name"],
    ['{"a" 1}', 5, "expected ':' after property name"],
    ["[1, 2", 5, "unexpected end of input"],
    ["[1 2]", 3, "expected ',' or ']'"],
    ['{"a": 1 "b": 2}', 8, "expected ',' or '}'"],
    ["abc", 0, "unexpected character 'a'"],
    ["tru", 3, "invalid literal, expected 'true'"],
    ["nul!", 3, "invalid literal, expected 'null'"],
    ["01", 1, "unexpected '1' after the value"],
    ["-", 1, "expected a digit"],
    ["1.", 2, "expected a digit after '.'"],
    ["1e+", 3, "expected a digit in exponent"],
    ['"abc', 4, "unterminated string"],
    ['"a\\x"', 3, "invalid escape sequence in string"],
    ['"\\u12G4"', 5, "expected 4 hex digits after \\u"],
    ['"a\nb"', 2, 'unescaped control character "\\n"'],
    ["[1] [2]", 4, "unexpected '[' after the value"],
    ["{", 1, "unexpected end of input"],
    ["[,]", 1, "unexpected character ','"],
  ])("locates %j at %i", (text, position, reason) => {
    expect(findJsonSyntaxError(text)).toEqual({ position, reason });
  });

  it.each([
    "{}",
    "[]",
    ' { "a" : [ 1 , -2.5e+3 , true , false , null , "x\\u00e9\\n" ] } ',
    "0",
    '"\\/"',
  ])("accepts %j", (text) => {
    expect(findJsonSyntaxError(text)).toBeNull();
  });

  it("agrees with JSON.parse on mutations", () => {
    const valid = '{"service":"a","series":[{"name":"up","points":[[1,2.5e3]]}]}';
    const replacements = ["", "}", "]", ",", ":", '"', "x", "-", ".", " "];
    for (let i = 0; i < valid.length; i += 1) {
      for (const replacement of replacements) {
        const text = valid.slice(0, i) + replacement + valid.slice(i + 1);
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(findJsonSyntaxError(text) === null, text).toBe(parses);
      }
    }
  });

  it("survives deep nesting", () => {
    const text = "[".repeat(100_000);

    expect(findJsonSyntaxError(text)).toEqual({
      position: 100_000,
      reason: "unexpected end of input",
    });
  });
});

describe("parseJsonText", () => {
  it("reports the position in the message", () => {
    let error: unknown;
    try {
      parseJsonText('{"a": tru}');
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).code).toBe("invalid_json");
    expect((error as ApiError).message).toBe(
      "invalid JSON at position 9: invalid literal, expected 'true'",
    );
  });

  it("rejects a blank body", () => {
    expect(() => parseJsonText("  \n")).toThrow(
      "invalid JSON at position 0: the request body is empty",
    );
  });
});
