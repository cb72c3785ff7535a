import { randomUUID } from "node:crypto";

import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { z } from "zod";

import { getOidcConfig, type OidcConfig } from "@/lib/auth/oidc-config";
import { resolveSsoUser, type SsoError } from "@/lib/auth/oidc-users";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db";
import type { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

// next-auth 4 with a credentials provider and, when VIGIL_OIDC_ISSUER is
// set, an OpenID Connect provider (lib/auth/oidc-config.ts). Sessions are
// JWTs in an encrypted cookie that carry the user's id, name, email and
// role, whichever provider signed the user in. Server
// code still re-reads the user from the database on each request
// (lib/auth/session.ts), so a role change or a deleted user takes effect
// without waiting for the token to expire.

declare module "next-auth" {
  interface User {
    role: Role;
    /** Set by the single sign-on profile callback when the login is rejected. */
    ssoError?: SsoError;
  }
  interface Session {
    user: { id: number; name: string; email: string; role: Role };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    userId?: number;
    role?: Role;
  }
}

const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

const credentialsSchema = z.object({
  email: z
    .string()
    .trim()
    .min(1)
    .max(320)
    .transform((email) => email.toLowerCase()),
  password: z.string().min(1).max(200),
});

let unknownUserHash: Promise<string> | undefined;

/**
 * Compares the password against a throwaway hash so that a login with an
 * unknown email takes as long as one with a wrong password, which keeps
 * response times from revealing which emails have accounts.
 */
async function spendPasswordCheck(password: string): Promise<void> {
  unknownUserHash ??= hashPassword(randomUUID());
  await verifyPassword(password, await unknownUserHash);
}

/**
 * Returns the typed email for a log line, or a placeholder when it does not
 * look like an email: people sometimes type their password into that field.
 */
function loggableEmail(email: string): string {
  return /^[^\s@]+@[^\s@]+$/.test(email) ? email : "[not an email address]";
}

async function authorize(
  credentials: Record<string, string> | undefined,
): Promise<{ id: string; name: string; email: string; role: Role } | null> {
  const parsed = credentialsSchema.safeParse(credentials ?? {});
  if (!parsed.success) {
    logger.warn({ reason: "missing email or password" }, "login failed");
    return null;
  }
  const { email, password } = parsed.data;

  const user = await getPrisma().user.findUnique({
    where: { email },
    select: {
      id: true,
      name: true,
      email: true,
      role: true,
      passwordHash: true,
    },
  });
  if (!user) {
    await spendPasswordCheck(password);
    logger.warn(
      { email: loggableEmail(email), reason: "unknown email" },
      "login failed",
    );
    return null;
  }

  // Users created through single sign-on have no bcrypt hash.
  if (!user.passwordHash.startsWith("$2")) {
    await spendPasswordCheck(password);
    logger.warn(
      { email, userId: user.id, reason: "user has no password" },
      "login failed",
    );
    return null;
  }

  if (!(await verifyPassword(password, user.passwordHash))) {
    logger.warn(
      { email, userId: user.id, reason: "wrong password" },
      "login failed",
    );
    return null;
  }

  logger.info({ userId: user.id, role: user.role }, "login succeeded");
  return {
    id: String(user.id),
    name: user.name,
    email: user.email,
    role: user.role,
  };
}

/** The provider id, so the callback URL is /api/auth/callback/oidc. */
export const OIDC_PROVIDER_ID = "oidc";

/**
 * Builds the OpenID Connect provider: discovery from the issuer's
 * /.well-known/openid-configuration, the authorization code flow with PKCE,
 * state and nonce, and the claims of the ID token, whose signature,
 * issuer, audience, expiry and nonce openid-client checks.
 */
function oidcProvider(config: OidcConfig): OAuthConfig<Record<string, unknown>> {
  return {
    id: OIDC_PROVIDER_ID,
    name: config.displayName,
    type: "oauth",
    wellKnown: `${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    authorization: { params: { scope: config.scopes } },
    idToken: true,
    checks: ["pkce", "state", "nonce"],
    async profile(claims) {
      const result = await resolveSsoUser(config, claims);
      if ("error" in result) {
        return { id: "0", name: "", email: "", role: "viewer", ssoError: result.error };
      }
      const { user } = result;
      return { id: String(user.id), name: user.name, email: user.email, role: user.role };
    },
  };
}

/**
 * Returns the fields of a next-auth error that are safe to log: openid-client
 * errors can carry the ID token or the token response in other fields.
 */
function loggableAuthError(metadata: unknown): Record<string, unknown> {
  const source =
    metadata instanceof Error
      ? { error: metadata }
      : ((metadata ?? {}) as { error?: unknown; providerId?: unknown });
  const error = source.error instanceof Error ? source.error : undefined;
  return {
    providerId: typeof source.providerId === "string" ? source.providerId : undefined,
    errorName: error?.name,
    errorMessage: error?.message.slice(0, 500),
  };
}

/**
 * Messages of next-auth 4 and openid-client 5 when a callback request lacks
 * the state, PKCE or nonce cookies of a login this browser started, or
 * carries another state. Anyone can send such a request without talking to
 * the provider, so it is logged at warn and does not page anyone.
 */
const FORGED_CALLBACK_MESSAGE = /cookie was missing|state mismatch|checks\.\w+ argument is missing/;

/**
 * Returns whether a next-auth error is a rejected callback request rather
 * than a fault of Vigil or the provider. That is a callback without a login
 * started in this browser, or one with an `error` parameter such as
 * access_denied, which the provider or anyone else can send.
 */
function isRejectedCallback(code: string, metadata: unknown): boolean {
  if (code === "OAUTH_CALLBACK_HANDLER_ERROR") return true;
  if (code !== "OAUTH_CALLBACK_ERROR") return false;
  const { errorMessage } = loggableAuthError(metadata);
  return typeof errorMessage === "string" && FORGED_CALLBACK_MESSAGE.test(errorMessage);
}

// Parsed when this module loads, which every page and auth route does, so
// an invalid VIGIL_OIDC_* variable fails them with a ConfigError naming it.
// `npm start` parses them before it starts anything (scripts/vigil.ts).
const oidcConfig = getOidcConfig();

export const authOptions: NextAuthOptions = {
  secret: getConfig().NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  pages: { signIn: "/login", error: "/login" },
  providers: [
    CredentialsProvider({
      name: "Email and password",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      authorize,
    }),
    ...(oidcConfig ? [oidcProvider(oidcConfig)] : []),
  ],
  callbacks: {
    signIn({ user }) {
      // A string is a redirect, so /login shows why single sign-on failed.
      if (user.ssoError) return `/login?error=${user.ssoError}`;
      return true;
    },
    jwt({ token, user }) {
      // `user` is only present on the sign-in request.
      if (user) {
        token.userId = Number(user.id);
        token.role = user.role;
      }
      return token;
    },
    session({ session, token }) {
      session.user = {
        id: token.userId ?? 0,
        name: token.name ?? "",
        email: token.email ?? "",
        role: token.role ?? "viewer",
      };
      return session;
    },
  },
  events: {
    signOut({ token }) {
      logger.info({ userId: token?.userId }, "signed out");
    },
  },
  logger: {
    error(code, metadata) {
      if (isRejectedCallback(code, metadata)) {
        logger.warn({ code, ...loggableAuthError(metadata) }, "single sign-on callback rejected");
        return;
      }
      logger.error({ code, ...loggableAuthError(metadata) }, "next-auth error");
    },
    warn(code) {
      logger.warn({ code }, "next-auth warning");
    },
    debug() {},
  },
};
