import { Writable } from "node:stream";

import pino from "pino";
import { describe, expect, it } from "vitest";

import { ConfigError, parseConfig } from "@/lib/config";
import {
  loggerOptions,
  resolveLogFormat,
  serializeError,
} from "@/lib/logger";

/** Returns the values typed as an environment. */
function env(values: Record<string, string>): NodeJS.ProcessEnv {
  return values as NodeJS.ProcessEnv;
}

/** Returns the JSON lines a logger with Vigil's options writes. */
function captureLines(write: (log: pino.Logger) => void): unknown[] {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  write(pino(loggerOptions, stream));
  return lines.map((line) => JSON.parse(line) as unknown);
}

/** Returns an error shaped like the one pg-pool emits for an idle client. */
function idleClientError(): Error {
  const error = Object.assign(
    new Error("terminating connection due to administrator command"),
    { code: "57P01", severity: "FATAL" },
  );
  const client = { connectionParameters: { password: "x" }, queue: [] };
  return Object.assign(error, { client });
}

describe("LOG_FORMAT", () => {
  it("is unset by default", () => {
    const config = parseConfig(env({}));
    expect(config.LOG_FORMAT).toBeUndefined();
  });

  it("accepts pretty and json", () => {
    for (const value of ["pretty", "json"] as const) {
      const config = parseConfig(env({ LOG_FORMAT: value }));
      expect(config.LOG_FORMAT).toBe(value);
    }
  });

  it("rejects another value by name", () => {
    const parse = () => parseConfig(env({ LOG_FORMAT: "text" }));
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/LOG_FORMAT/);
  });
});

describe("resolveLogFormat", () => {
  it("defaults to pretty on a terminal", () => {
    expect(resolveLogFormat(undefined, true)).toBe("pretty");
  });

  it("defaults to json off a terminal", () => {
    expect(resolveLogFormat(undefined, false)).toBe("json");
  });

  it("keeps an explicit choice", () => {
    expect(resolveLogFormat("json", true)).toBe("json");
    expect(resolveLogFormat("pretty", false)).toBe("pretty");
  });

  it("falls back to the default when invalid", () => {
    expect(resolveLogFormat("text", true)).toBe("pretty");
    expect(resolveLogFormat("", false)).toBe("json");
  });
});

describe("serializeError", () => {
  it("keeps message and code", () => {
    const serialized = serializeError(idleClientError()) as Record<
      string,
      unknown
    >;
    expect(serialized.message).toBe(
      "terminating connection due to administrator command",
    );
    expect(serialized.code).toBe("57P01");
    expect(serialized.severity).toBe("FATAL");
    expect(serialized.type).toBe("Error");
  });

  it("drops the pg client", () => {
    const serialized = serializeError(idleClientError()) as Record<
      string,
      unknown
    >;
    expect(serialized).not.toHaveProperty("client");
  });

  it("passes other values through", () => {
    expect(serializeError("text")).toBe("text");
    expect(serializeError(undefined)).toBeUndefined();
  });

  it("applies to err and error fields", () => {
    const [first, second] = captureLines((log) => {
      log.error({ err: idleClientError() }, "first");
      log.error({ error: idleClientError() }, "second");
    }) as { err?: Record<string, unknown>; error?: Record<string, unknown> }[];
    expect(first!.err!.code).toBe("57P01");
    expect(first!.err).not.toHaveProperty("client");
    expect(second!.error!.code).toBe("57P01");
    expect(second!.error).not.toHaveProperty("client");
  });
});
