import http from "node:http";
import type { AddressInfo } from "node:net";

// HTTP peers for the runbook step tests, on 127.0.0.1 with a port the OS
// picks. Each peer records every request it receives and responds with the
// next entry of its script (the last one repeats): a status code with a
// body, a redirect, or "hang", which never responds.

export type PeerResponse =
  | { status: number; body?: string; headers?: Record<string, string> }
  | "hang";

export type RecordedRequest = {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
};

export type StepPeer = {
  port: number;
  /** Base URL such as http://127.0.0.1:41234 */
  origin: string;
  requests: RecordedRequest[];
  close: () => Promise<void>;
};

export async function startStepPeer(script: PeerResponse[]): Promise<StepPeer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      const next = script[Math.min(requests.length - 1, script.length - 1)]!;
      if (next === "hang") return;
      response
        .writeHead(next.status, { "content-type": "text/plain", ...next.headers })
        .end(next.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
