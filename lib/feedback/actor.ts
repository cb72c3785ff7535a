import { getToken } from "next-auth/jwt";

import { ApiError } from "@/lib/api/errors";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { authOptions } from "@/lib/auth/options";
import { getPrisma } from "@/lib/db";
import type { FeedbackActor } from "@/lib/feedback/record";
import { TokenScope } from "@/lib/generated/prisma/enums";

// Authentication of the feedback API, which takes either an API token or
// the browser session of a signed-in user.
//
// - A request with an Authorization header must carry a valid API token.
//   Recording a verdict needs scope admin, because it changes the series'
//   alarm threshold, so ingest tokens (those of exporters) get 403.
// - Without that header, the next-auth session cookie identifies the user,
//   whose role is read from the database now. Viewers may read verdicts
//   but get 403 when they record one. Recording through a session also
//   requires Content-Type application/json and, when the browser sends
//   Origin, an Origin of this host. A cross-site HTML form can send
//   neither, so another site cannot submit a verdict as the user.

const SECURE_SESSION_COOKIE = "__Secure-next-auth.session-token";

const SESSION_HINT =
  "sign in to Vigil, or send Authorization: Bearer <API token of scope admin>";

function unauthorized(message: string): ApiError {
  return new ApiError(401, "unauthorized", message, {
    headers: { "WWW-Authenticate": 'Bearer realm="vigil"' },
  });
}

/** Parses a Cookie header into name/value pairs; later duplicates lose. */
function parseCookies(header: string | null): Record<string, string> {
  const cookies: Record<string, string> = {};
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const separator = part.indexOf("=");
    if (separator <= 0) continue;
    const name = part.slice(0, separator).trim();
    if (name in cookies) continue;
    const value = part.slice(separator + 1).trim();
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}

function checkSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin === null) return;
  const host =
    request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = null;
  }
  if (host === null || originHost !== host) {
    throw new ApiError(
      403,
      "cross_origin",
      `requests signed in with a session must come from this site; Origin ${JSON.stringify(origin)} does not match host ${JSON.stringify(host)}`,
      { field: "Origin" },
    );
  }
}

function checkJsonContentType(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Content-Type must be application/json, got ${JSON.stringify(type)}`,
      { field: "Content-Type" },
    );
  }
}

/** "write" records a verdict; "read" only reads verdicts and precision. */
export type FeedbackAccess = "write" | "read";

async function authenticateSession(
  request: Request,
  access: FeedbackAccess,
  writeAction: string,
): Promise<FeedbackActor> {
  const cookies = parseCookies(request.headers.get("cookie"));
  // getToken reads cookies from `req.cookies` as a plain object when it is
  // not a Next.js request, and decrypts the JWT as next-auth 4 writes it.
  // next-auth names the cookie with the __Secure- prefix when the site is
  // served over HTTPS, so the cookie present decides which name to read.
  const session = await getToken({
    req: { cookies, headers: {} } as unknown as Parameters<
      typeof getToken
    >[0]["req"],
    secret: authOptions.secret,
    secureCookie: Object.keys(cookies).some((name) =>
      name.startsWith(SECURE_SESSION_COOKIE),
    ),
  });
  const userId = session?.userId;
  if (typeof userId !== "number") {
    throw unauthorized(`no valid session or API token; ${SESSION_HINT}`);
  }

  if (access === "write") {
    checkSameOrigin(request);
    checkJsonContentType(request);
  }

  const user = await getPrisma().user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, role: true },
  });
  if (!user) {
    throw unauthorized(`the session's user no longer exists; ${SESSION_HINT}`);
  }
  // Not hasRole from lib/auth/session, which needs React's server build.
  if (access === "write" && user.role !== "responder" && user.role !== "admin") {
    throw new ApiError(
      403,
      "forbidden",
      `your role (${user.role}) cannot ${writeAction}; it needs the responder or admin role`,
      { logContext: { userId: user.id } },
    );
  }
  return { kind: "user", id: user.id, name: user.name };
}

/**
 * Identifies who sends a feedback request. Writing needs an admin-scope API
 * token or a signed-in responder or admin. Reading takes any valid token
 * or signed-in user. Throws ApiError 401, 403 or 415.
 */
export async function authenticateFeedbackRequest(
  request: Request,
  access: FeedbackAccess = "write",
  /** What a write does, for the 403 message to a viewer. */
  writeAction = "give feedback on incidents",
): Promise<FeedbackActor> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(
      token,
      access === "write" ? TokenScope.admin : TokenScope.ingest,
    );
    return {
      kind: "token",
      id: token.id,
      name: `API token ${token.name}`,
      serviceId: token.serviceId,
    };
  }
  return authenticateSession(request, access, writeAction);
}
