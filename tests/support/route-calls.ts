import { encode } from "next-auth/jwt";

// Calls a Next.js route handler in-process, the way the integration tests
// of the API do, with a bearer token or a session cookie.

export type Json = Record<string, any>;

export type Auth = { token?: string; cookie?: string };

export type RouteHandler = (
  request: Request,
  context?: { params?: Promise<Record<string, string>> },
) => Promise<Response>;

/** Sends a JSON request to `handler` and returns its status and parsed body. */
export async function callRoute(
  handler: RouteHandler,
  method: string,
  url: string,
  auth: Auth,
  body?: unknown,
  params: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.cookie = auth.cookie;
  const response = await handler(
    new Request(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve(params) },
  );
  return { status: response.status, json: (await response.json()) as Json };
}

/**
 * Returns a Cookie header with a next-auth session for `user`, encrypted
 * with `secret`, which must be the server's NEXTAUTH_SECRET.
 */
export async function sessionCookieFor(
  user: { id: number; name: string },
  secret: string,
): Promise<string> {
  const token = await encode({
    token: { userId: user.id, name: user.name, sub: String(user.id) },
    secret,
  });
  return `next-auth.session-token=${token}`;
}
