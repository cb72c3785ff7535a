import { createHash, randomBytes } from "node:crypto";

import { ApiError } from "@/lib/api/errors";
import { getPrisma } from "@/lib/db";
import type { ApiToken } from "@/lib/generated/prisma/client";
import { TokenScope } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

// API tokens are "vgl_" followed by 32 random bytes in base64url (43
// characters). Only the SHA-256 of a token is stored. A lookup by that hash
// through the unique index compares hashes, not tokens, so response timing
// can reveal at most how much of a hash matched, which does not help an
// attacker guess a token.

export const API_TOKEN_PREFIX = "vgl_";
const TOKEN_PATTERN = /^vgl_[A-Za-z0-9_-]{43}$/;
/** Characters of the token kept in clear so that people can tell tokens apart. */
const DISPLAY_PREFIX_LENGTH = API_TOKEN_PREFIX.length + 6;
const LAST_USED_RESOLUTION_MS = 60_000;
const REALM = 'Bearer realm="vigil"';

export function generateApiToken(): string {
  return API_TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Returns the SHA-256 of a token in lowercase hex, as stored in tokenHash. */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export type NewApiToken = {
  name: string;
  scope: TokenScope;
  /** Restricts the token to writing this one service. */
  serviceId?: number;
  createdById?: number;
};

/**
 * Creates a token and stores its hash. Returns the token in clear, which
 * exists only in this return value: show it to the user once.
 */
export async function createApiToken(
  input: NewApiToken,
): Promise<{ token: string; id: number }> {
  const name = input.name.trim();
  if (name === "" || name.length > 200) {
    throw new Error("API token name must be 1 to 200 characters");
  }
  if (!Object.values(TokenScope).includes(input.scope)) {
    throw new Error(`API token scope must be ingest or admin, got ${input.scope}`);
  }

  const token = generateApiToken();
  const row = await getPrisma().apiToken.create({
    data: {
      name,
      scope: input.scope,
      tokenHash: hashApiToken(token),
      prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
      serviceId: input.serviceId ?? null,
      createdById: input.createdById ?? null,
    },
    select: { id: true },
  });
  logger.info(
    { tokenId: row.id, scope: input.scope, serviceId: input.serviceId },
    "created API token",
  );
  return { token, id: row.id };
}

/** Marks a token revoked; returns false when no such token exists. */
export async function revokeApiToken(id: number): Promise<boolean> {
  const result = await getPrisma().apiToken.updateMany({
    where: { id, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  const exists =
    result.count > 0 ||
    (await getPrisma().apiToken.count({ where: { id } })) > 0;
  if (result.count > 0) logger.info({ tokenId: id }, "revoked API token");
  return exists;
}

function unauthorized(
  message: string,
  description?: string,
  logContext: Record<string, unknown> = {},
): ApiError {
  const challenge = description
    ? `${REALM}, error="invalid_token", error_description="${description}"`
    : REALM;
  return new ApiError(401, "unauthorized", message, {
    headers: { "WWW-Authenticate": challenge },
    logContext,
  });
}

/**
 * Authenticates the request's `Authorization: Bearer` token and returns its
 * row. Throws a 401 ApiError with a WWW-Authenticate challenge when the
 * header is missing or the token is malformed, unknown or revoked. Updates
 * lastUsedAt at most once a minute per token.
 */
export async function authenticateBearer(request: Request): Promise<ApiToken> {
  const header = request.headers.get("authorization");
  if (header === null || header.trim() === "") {
    throw unauthorized(
      "missing Authorization header; send Authorization: Bearer <API token>",
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  if (!match) {
    throw unauthorized(
      "Authorization header must have the form Bearer <API token>",
      "malformed Authorization header",
    );
  }

  const token = match[1]!;
  if (!TOKEN_PATTERN.test(token)) {
    throw unauthorized("invalid API token", "invalid token");
  }
  const row = await getPrisma().apiToken.findUnique({
    where: { tokenHash: hashApiToken(token) },
  });
  if (row === null) {
    throw unauthorized("invalid API token", "invalid token");
  }
  if (row.revokedAt !== null) {
    throw unauthorized("API token has been revoked", "token revoked", {
      tokenId: row.id,
    });
  }

  await touchLastUsed(row);
  return row;
}

async function touchLastUsed(row: ApiToken): Promise<void> {
  const now = Date.now();
  const lastUsed = row.lastUsedAt?.getTime() ?? 0;
  if (now - lastUsed < LAST_USED_RESOLUTION_MS) return;

  // The condition repeats the check in SQL so that concurrent requests of
  // one token write the row once per minute, not once per request.
  const cutoff = new Date(now - LAST_USED_RESOLUTION_MS);
  await getPrisma().apiToken.updateMany({
    where: {
      id: row.id,
      OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: cutoff } }],
    },
    data: { lastUsedAt: new Date(now) },
  });
  row.lastUsedAt = new Date(now);
}

/**
 * Throws a 403 ApiError unless the token's scope allows the action. An
 * admin token may do everything an ingest token may.
 */
export function requireScope(token: ApiToken, scope: TokenScope): void {
  if (scope === TokenScope.ingest || token.scope === TokenScope.admin) return;
  throw new ApiError(
    403,
    "insufficient_scope",
    `this API token has scope ${token.scope}; the request needs scope ${scope}`,
    {
      headers: {
        "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"`,
      },
      logContext: { tokenId: token.id },
    },
  );
}
