import { decode } from "next-auth/jwt";

import { ApiError } from "@/lib/api/errors";
import { authenticateBearer, requireScope } from "@/lib/auth/api-token";
import { roleAllows } from "@/lib/auth/roles";
import { getConfig } from "@/lib/config";
import { getPool, getPrisma } from "@/lib/db";
import { Role, TokenScope } from "@/lib/generated/prisma/enums";
import type { TrainingActor } from "@/lib/models/training-jobs";

// Authentication of the model routes, which both the Models page (with the
// signed-in user's session cookie) and scripts (with a bearer token) call.
// A request with an Authorization header is checked as an API token.
// Otherwise the next-auth session cookie must belong to a user whose role,
// read from the database now, is high enough.


export type ModelRequestActor = TrainingActor & {
  type: "user" | "token";
  id: number;
  role: Role | null;
  /** Service an API token is bound to; null for users and unbound tokens. */
  serviceId: number | null;
};

export type ModelAccess = {
  /** Lowest user role allowed. */
  minRole: Role;
  /** Token scope required from a bearer token. */
  scope: TokenScope;
};

function parseCookies(header: string | null): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator <= 0) continue;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    try {
      cookies[name] = decodeURIComponent(value);
    } catch {
      cookies[name] = value;
    }
  }
  return cookies;
}

/**
 * Rejects a cookie-authenticated request from another origin. The session
 * cookie is SameSite=Lax, which already keeps it off cross-site POSTs; this
 * check also covers same-site subdomains.
 */
function requireSameOrigin(request: Request): void {
  if (request.method === "GET" || request.method === "HEAD") return;
  const origin = request.headers.get("origin");
  if (origin === null) return;
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = "";
  }
  if (host === null || originHost !== host) {
    throw new ApiError(
      403,
      "forbidden",
      `requests signed in with a session cookie must come from this site; the Origin header is ${origin}`,
    );
  }
}

/**
 * Rejects a cookie-authenticated POST whose Content-Type is not
 * application/json with 415, as the feedback route does. HTML forms cannot
 * send that type, so another site cannot post a form with the cookie.
 */
function requireJsonContentType(request: Request): void {
  if (request.method === "GET" || request.method === "HEAD") return;
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type.trim())) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `requests signed in with a session cookie must send Content-Type application/json, got ${JSON.stringify(type)}`,
      { field: "Content-Type" },
    );
  }
}

/**
 * Returns the session JWT from next-auth's cookie, which next-auth splits
 * into "<name>.0", "<name>.1", ... when it is larger than one cookie.
 */
function sessionCookie(request: Request): string | null {
  const secure = (process.env.NEXTAUTH_URL ?? "").startsWith("https://");
  const name = secure
    ? "__Secure-next-auth.session-token"
    : "next-auth.session-token";
  const cookies = parseCookies(request.headers.get("cookie"));
  if (cookies[name] !== undefined) return cookies[name];
  const chunks: string[] = [];
  for (let index = 0; cookies[`${name}.${index}`] !== undefined; index += 1) {
    chunks.push(cookies[`${name}.${index}`]!);
  }
  return chunks.length > 0 ? chunks.join("") : null;
}

async function sessionActor(
  request: Request,
  access: ModelAccess,
): Promise<ModelRequestActor> {
  const secret = getConfig().NEXTAUTH_SECRET;
  const cookie = sessionCookie(request);
  // An expired or tampered cookie fails to decrypt, which counts as no session.
  const jwt =
    secret && cookie
      ? await decode({ token: cookie, secret }).catch(() => null)
      : null;
  const userId = typeof jwt?.userId === "number" ? jwt.userId : null;
  if (userId === null) {
    throw new ApiError(
      401,
      "unauthorized",
      "sign in, or send Authorization: Bearer <API token>",
      { headers: { "WWW-Authenticate": 'Bearer realm="vigil"' } },
    );
  }
  const user = await getPrisma().user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, role: true },
  });
  if (!user) {
    throw new ApiError(401, "unauthorized", "the session's user no longer exists; sign in again", {
      logContext: { userId },
    });
  }
  if (!roleAllows(user.role, access.minRole)) {
    throw new ApiError(
      403,
      "forbidden",
      `this needs the ${access.minRole} role or above; your role is ${user.role}`,
      { logContext: { userId: user.id, role: user.role } },
    );
  }
  requireSameOrigin(request);
  requireJsonContentType(request);
  return {
    type: "user",
    id: user.id,
    name: user.name,
    role: user.role,
    serviceId: null,
  };
}

/**
 * Returns who sent the request: the API token when the request has an
 * Authorization header, else the signed-in user. Throws a 401 or 403
 * ApiError when neither is allowed.
 */
export async function authenticateModelRequest(
  request: Request,
  access: ModelAccess,
): Promise<ModelRequestActor> {
  if (request.headers.has("authorization")) {
    const token = await authenticateBearer(request);
    requireScope(token, access.scope);
    return {
      type: "token",
      id: token.id,
      name: `API token ${token.name}`,
      role: null,
      serviceId: token.serviceId,
    };
  }
  return sessionActor(request, access);
}

/**
 * Rejects an API token bound to a service other than the series' own with
 * 403. A series that does not exist passes, so that the route reports 404.
 */
export async function requireSeriesAccess(
  actor: ModelRequestActor,
  seriesId: number,
): Promise<void> {
  if (actor.serviceId === null) return;
  const { rows } = await getPool().query<{ service_id: number }>(
    "SELECT service_id FROM metric_series WHERE id = $1",
    [seriesId],
  );
  const series = rows[0];
  if (series && series.service_id !== actor.serviceId) {
    throw new ApiError(
      403,
      "forbidden",
      `this API token is bound to another service than series ${seriesId}`,
      {
        field: "id",
        logContext: { tokenId: actor.id, tokenServiceId: actor.serviceId },
      },
    );
  }
}
