import http from "node:http";
import https from "node:https";
import net, { type LookupFunction } from "node:net";

import type { RenderedStep } from "@/lib/runbooks/steps";

// Sends the HTTP request of one runbook step attempt to an address that the
// allowlist check already approved. Redirects are not followed, because the
// next hop was not checked. A peer's failure is returned, not thrown.

/** Bytes of a response body kept for the run record and the timeline. */
export const MAX_RESPONSE_BODY_BYTES = 4096;

export type StepResponse = {
  succeeded: boolean;
  /** Whether a later attempt may succeed: timeouts, network errors, 408, 429 and 5xx. */
  retryable: boolean;
  status: number | null;
  /** Start of the response body, at most MAX_RESPONSE_BODY_BYTES bytes as UTF-8. */
  body: string | null;
  error: string | null;
  durationMs: number;
};

const USER_AGENT = "Vigil runbook step";

function describeNetworkError(error: NodeJS.ErrnoException): string {
  return `request failed: ${error.code ?? error.message}`;
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Sends `request` to one of `addresses`, the checked IPs of its URL's
 * host, within its timeout, which covers connecting, the response headers
 * and reading the body. The Host header and the TLS server name stay the
 * URL's host.
 */
export function sendStepRequest(
  request: RenderedStep,
  addresses: ReadonlyArray<{ address: string; family: 4 | 6 }>,
): Promise<StepResponse> {
  const startedAt = performance.now();
  const timeoutMs = request.timeoutSeconds * 1000;
  const url = request.url;
  const client = url.protocol === "https:" ? https : http;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");

  // Node.js calls lookup for a host name (not for an IP literal), with
  // `all: true` when it tries several addresses in turn (autoSelectFamily,
  // on by default since Node.js 20), so both forms return the checked
  // addresses only.
  const pinnedLookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (error: null, all: Array<{ address: string; family: number }>) => void)(
        null,
        [...addresses],
      );
    } else {
      callback(null, addresses[0]!.address, addresses[0]!.family);
    }
  };

  const headers: Record<string, string> = { "user-agent": USER_AGENT, ...request.headers };
  if (request.body !== undefined) {
    headers["content-length"] = String(Buffer.byteLength(request.body));
  }

  return new Promise<StepResponse>((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Omit<StepResponse, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: Math.round(performance.now() - startedAt) });
    };
    const failure = (error: string, retryable: boolean, status: number | null = null, body: string | null = null) =>
      finish({ succeeded: false, retryable, status, body, error });

    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let keptBytes = 0;
      let truncated = false;
      const complete = () => {
        const status = response.statusCode ?? 0;
        // PostgreSQL text cannot store NUL characters.
        const body = Buffer.concat(chunks).toString("utf8").replace(/\0/g, "\uFFFD");
        if (status >= 200 && status < 300) {
          finish({ succeeded: true, retryable: false, status, body, error: null });
        } else if (status >= 300 && status < 400) {
          const location = response.headers.location ?? "no Location header";
          failure(`HTTP ${status} redirect to ${location} not followed, because only the allowlisted URL is called`, false, status, body);
        } else {
          failure(`HTTP ${status}`, isRetryableStatus(status), status, body);
        }
      };
      response.on("data", (chunk: Buffer) => {
        if (keptBytes >= MAX_RESPONSE_BODY_BYTES) return;
        const room = MAX_RESPONSE_BODY_BYTES - keptBytes;
        chunks.push(chunk.subarray(0, room));
        keptBytes += Math.min(chunk.length, room);
        if (chunk.length > room) {
          // The rest of the body is not needed, so the connection closes
          // instead of downloading it.
          truncated = true;
          complete();
          response.destroy();
        }
      });
      response.on("end", complete);
      response.on("error", (error: NodeJS.ErrnoException) => {
        if (!truncated) failure(describeNetworkError(error), true, response.statusCode ?? null);
      });
    };

    let outgoing: http.ClientRequest;
    try {
      outgoing = client.request(
        {
          protocol: url.protocol,
          host: hostname,
          port: url.port === "" ? undefined : Number(url.port),
          path: request.target,
          method: request.method,
          headers,
          lookup: pinnedLookup,
          // RFC 6066 allows only host names as the TLS server name.
          servername: url.protocol === "https:" && net.isIP(hostname) === 0 ? hostname : undefined,
          agent: false,
        },
        onResponse,
      );
    } catch (error) {
      // Node.js checks the method, path and header values before it
      // connects, and throws on an invalid one.
      failure(`invalid request: ${(error as Error).message}`, false);
      return;
    }
    timer = setTimeout(() => {
      failure(`timed out after ${request.timeoutSeconds} s`, true);
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on("error", (error: NodeJS.ErrnoException) => {
      failure(describeNetworkError(error), true);
    });
    if (request.body !== undefined) outgoing.write(request.body);
    outgoing.end();
  });
}
