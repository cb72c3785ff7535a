import http from "node:http";

// A plain Node HTTP server on 127.0.0.1 that dispatches requests to Next.js
// route handlers by method and path pattern, so integration tests send real
// HTTP requests over sockets without a Next.js build. Path parameters come
// from named groups of the pattern, as Next.js passes them in `params`.

export type RouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

export type Route = { method: string; pattern: RegExp; handler: RouteHandler };

export type RouteServer = { baseUrl: string; close: () => Promise<void> };

async function readBody(incoming: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRouteServer(
  routes: Route[],
  port: number,
): Promise<RouteServer> {
  const server = http.createServer(async (incoming, outgoing) => {
    try {
      const url = new URL(incoming.url ?? "/", `http://127.0.0.1:${port}`);
      const route = routes.find(
        (candidate) =>
          candidate.method === incoming.method &&
          candidate.pattern.test(url.pathname),
      );
      if (!route) {
        outgoing.writeHead(404, { "content-type": "text/plain" });
        outgoing.end(`no route for ${incoming.method} ${url.pathname}`);
        return;
      }
      const params = { ...route.pattern.exec(url.pathname)!.groups };
      const body = await readBody(incoming);
      const headers = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(", "));
      }
      const request = new Request(url, {
        method: incoming.method,
        headers,
        body:
          incoming.method === "GET" || incoming.method === "HEAD"
            ? undefined
            : new Uint8Array(body),
      });
      const response = await route.handler(request, {
        params: Promise.resolve(params),
      });
      outgoing.writeHead(response.status, Object.fromEntries(response.headers));
      outgoing.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      outgoing.writeHead(599, { "content-type": "text/plain" });
      outgoing.end(`route server failed: ${(error as Error).stack}`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
