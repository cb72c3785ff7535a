import type { Logger } from "@/lib/logger";

// A small JSON client for Vigil's own HTTP API, used by the demo replay.
// Network errors, 429 and 5xx responses are retried with exponential
// backoff. Other errors are raised at once, because resending the same
// body cannot fix them.

export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export type ApiClientOptions = {
  baseUrl: string;
  token: string;
  logger: Logger;
  signal?: AbortSignal;
  maxAttempts?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
};

/** Resolves after `ms`, or rejects with the signal's reason on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Returns the backoff before retry number `attempt` (1-based). */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
): number {
  return Math.min(maxMs, initialMs * 2 ** (attempt - 1));
}

function describeError(status: number, body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } })
    ?.error;
  if (error?.message) return `${status} ${error.code ?? ""}: ${error.message}`;
  return `${status}`;
}

export class ApiClient {
  private readonly maxAttempts: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.initialBackoffMs = options.initialBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** Sends one JSON request and returns the parsed JSON response. */
  async send(method: "POST" | "PUT", path: string, body: unknown) {
    const url = new URL(path, this.options.baseUrl).toString();
    const payload = JSON.stringify(body);

    for (let attempt = 1; ; attempt += 1) {
      let failure: ApiRequestError;
      try {
        const response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.options.token}`,
            "content-type": "application/json",
          },
          body: payload,
          signal: this.options.signal,
        });
        const text = await response.text();
        const parsed: unknown = text ? safeJson(text) : undefined;
        if (response.ok) return parsed;

        failure = new ApiRequestError(
          `${method} ${path} failed: ${describeError(response.status, parsed)}`,
          response.status,
        );
        const retryable = response.status === 429 || response.status >= 500;
        if (!retryable) throw failure;
      } catch (error) {
        if (error instanceof ApiRequestError) throw error;
        if (this.options.signal?.aborted) throw this.options.signal.reason;
        failure = new ApiRequestError(
          `${method} ${path} failed: ${(error as Error).message}`,
          undefined,
        );
      }

      if (attempt >= this.maxAttempts) throw failure;
      const delay = backoffMs(
        attempt,
        this.initialBackoffMs,
        this.maxBackoffMs,
      );
      this.options.logger.warn(
        { path, attempt, retryInMs: delay, status: failure.status },
        `request failed, retrying: ${failure.message}`,
      );
      await sleep(delay, this.options.signal);
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
