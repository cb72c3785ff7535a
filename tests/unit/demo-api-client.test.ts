import http from "node:http";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  ApiClient,
  ApiRequestError,
  backoffMs,
  sleep,
} from "@/lib/demo/api-client";
import { logger } from "@/lib/logger";

// A local HTTP server on 127.0.0.1 that responds with a scripted sequence of
// statuses, to check the client's retry rules.

const PORT = 3171;
let statuses: number[] = [];
let requests: { method?: string; url?: string; auth?: string; body: string }[] =
  [];
let server: http.Server;

beforeAll(async () => {
  server = http.createServer(async (incoming, outgoing) => {
    let body = "";
    for await (const chunk of incoming) body += String(chunk);
    requests.push({
      method: incoming.method,
      url: incoming.url,
      auth: incoming.headers.authorization,
      body,
    });
    const status = statuses.shift() ?? 200;
    const payload =
      status < 400
        ? { ok: true }
        : {
            error: {
              code: "invalid",
              message: `status ${status}`,
              field: "series",
            },
          };
    outgoing.writeHead(status, { "content-type": "application/json" });
    outgoing.end(JSON.stringify(payload));
  });
  await new Promise<void>((resolve) =>
    server.listen(PORT, "127.0.0.1", resolve),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  statuses = [];
  requests = [];
});

function client(signal?: AbortSignal) {
  return new ApiClient({
    baseUrl: `http://127.0.0.1:${PORT}`,
    token: "vgl_test",
    logger,
    signal,
    maxAttempts: 4,
    initialBackoffMs: 10,
    maxBackoffMs: 40,
  });
}

describe("backoffMs", () => {
  it("doubles up to the maximum", () => {
    expect(backoffMs(1, 500, 30_000)).toBe(500);
    expect(backoffMs(2, 500, 30_000)).toBe(1_000);
    expect(backoffMs(4, 500, 30_000)).toBe(4_000);
    expect(backoffMs(10, 500, 30_000)).toBe(30_000);
  });
});

describe("ApiClient", () => {
  it("sends JSON with the bearer token", async () => {
    const result = await client().send("PUT", "/api/v1/services/x", { a: 1 });
    expect(result).toEqual({ ok: true });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe("PUT");
    expect(requests[0]!.url).toBe("/api/v1/services/x");
    expect(requests[0]!.auth).toBe("Bearer vgl_test");
    expect(JSON.parse(requests[0]!.body)).toEqual({ a: 1 });
  });

  it("retries 503 and 429 until success", async () => {
    statuses = [503, 429];
    const result = await client().send("POST", "/api/v1/metrics", {});
    expect(result).toEqual({ ok: true });
    expect(requests).toHaveLength(3);
  });

  it("raises a 400 at once with its message", async () => {
    statuses = [400];
    const failure = client().send("POST", "/api/v1/metrics", {});
    await expect(failure).rejects.toThrow(
      "POST /api/v1/metrics failed: 400 invalid: status 400",
    );
    await expect(failure).rejects.toBeInstanceOf(ApiRequestError);
    expect(requests).toHaveLength(1);
  });

  it("gives up after the last attempt", async () => {
    statuses = [500, 500, 500, 500, 500];
    await expect(client().send("POST", "/api/v1/metrics", {})).rejects.toThrow(
      "POST /api/v1/metrics failed: 500 invalid: status 500",
    );
    expect(requests).toHaveLength(4);
  });

  it("retries when the server is unreachable", async () => {
    const unreachable = new ApiClient({
      baseUrl: "http://127.0.0.1:3179",
      token: "vgl_test",
      logger,
      maxAttempts: 2,
      initialBackoffMs: 5,
    });
    await expect(
      unreachable.send("POST", "/api/v1/metrics", {}),
    ).rejects.toThrow(/POST \/api\/v1\/metrics failed: fetch failed/);
  });

  it("stops retrying on abort", async () => {
    statuses = [503, 503, 503];
    const controller = new AbortController();
    const slow = new ApiClient({
      baseUrl: `http://127.0.0.1:${PORT}`,
      token: "vgl_test",
      logger,
      signal: controller.signal,
      initialBackoffMs: 60_000,
    });
    const sending = slow.send("POST", "/api/v1/metrics", {});
    await sleep(100);
    controller.abort(new Error("stopped by test"));
    await expect(sending).rejects.toThrow("stopped by test");
    expect(requests).toHaveLength(1);
  });
});

describe("sleep", () => {
  it("rejects at once when already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("aborted before"));
    await expect(sleep(10_000, controller.signal)).rejects.toThrow(
      "aborted before",
    );
  });
});
