import { getPrisma } from "@/lib/db";
import type { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

import { mapRole, type OidcConfig } from "./oidc-config";

// Finds or creates the Vigil user of a single sign-on login.
//
// The provider's account is identified by (issuer, sub), never by email,
// so an email change at the provider keeps the same user. A provider
// account that claims the email of an existing local user gets that user
// only when VIGIL_OIDC_LINK_BY_EMAIL is on and the provider marks the
// email as verified.

/**
 * Password hash of users created through single sign-on. It is no bcrypt
 * hash, so the email and password login rejects these users.
 */
export const NO_PASSWORD_HASH = "!no-password";

/** Reasons a login is rejected. Each key is an `error` parameter of /login. */
export const SSO_ERRORS = {
  SsoInvalidToken: "the provider's ID token lacks the sub claim or has another issuer",
  SsoNoRole: "the role claim maps to no Vigil role and VIGIL_OIDC_DEFAULT_ROLE is none",
  SsoNoAccount: "no Vigil user is linked and VIGIL_OIDC_CREATE_USERS is off",
  SsoNoEmail: "the provider sent no email claim, which a new user needs",
  SsoAccountNotLinked:
    "a local user has this email, and linking needs VIGIL_OIDC_LINK_BY_EMAIL and a verified email",
} as const;

export type SsoError = keyof typeof SSO_ERRORS;

export type SsoUser = { id: number; name: string; email: string; role: Role };

export type SsoResult = { user: SsoUser } | { error: SsoError };

type Claims = Record<string, unknown>;

function stringClaim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

function displayName(claims: Claims, email: string | undefined, subject: string): string {
  const name =
    stringClaim(claims, "name") ??
    stringClaim(claims, "preferred_username") ??
    email?.split("@")[0] ??
    subject;
  return name.slice(0, 200);
}

const USER_FIELDS = { id: true, name: true, email: true, role: true } as const;

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === "P2002";
}

/**
 * Returns the Vigil user for verified ID token claims, creating or linking
 * it as the configuration allows, or the reason the login is rejected.
 * With VIGIL_OIDC_ROLE_CLAIM set, the user's role is set from the claim on
 * every login.
 */
export async function resolveSsoUser(config: OidcConfig, claims: Claims): Promise<SsoResult> {
  try {
    return await resolveOnce(config, claims);
  } catch (error) {
    // Two first logins of one account at once: the second create fails
    // on a unique index and then finds the row the first one wrote.
    if (!isUniqueViolation(error)) throw error;
    logger.info({ issuer: config.issuer }, "single sign-on: retrying after a concurrent first login");
    return resolveOnce(config, claims);
  }
}

async function resolveOnce(config: OidcConfig, claims: Claims): Promise<SsoResult> {
  const prisma = getPrisma();
  const subject = stringClaim(claims, "sub");
  if (!subject || claims.iss !== config.issuer) {
    logger.warn(
      { issuer: config.issuer, tokenIssuer: String(claims.iss).slice(0, 200), reason: "SsoInvalidToken" },
      "single sign-on rejected",
    );
    return { error: "SsoInvalidToken" };
  }
  const email = stringClaim(claims, "email")?.toLowerCase();
  const emailVerified = claims.email_verified === true;
  const name = displayName(claims, email, subject);
  const logContext = { issuer: config.issuer, subject };

  const role = mapRole(config, claims);
  if (role === null) {
    logger.warn({ ...logContext, reason: "SsoNoRole" }, "single sign-on rejected");
    return { error: "SsoNoRole" };
  }
  // Without a role claim, roles are managed in Vigil and only a new user
  // gets the default role.
  const roleUpdate = config.roleClaim !== undefined ? { role } : {};

  const identity = await prisma.oidcIdentity.findUnique({
    where: { issuer_subject: { issuer: config.issuer, subject } },
    select: { id: true, userId: true, user: { select: { email: true } } },
  });

  if (identity) {
    // Follow a verified email change unless another user has that address.
    let emailUpdate = {};
    if (email && emailVerified && email !== identity.user.email) {
      const emailOwner = await prisma.user.findUnique({ where: { email }, select: { id: true } });
      if (emailOwner) {
        logger.warn(
          { ...logContext, userId: identity.userId, otherUserId: emailOwner.id },
          "single sign-on: kept the old email because another user has the new one",
        );
      } else {
        emailUpdate = { email };
      }
    }
    const user = await prisma.user.update({
      where: { id: identity.userId },
      data: {
        name,
        ...roleUpdate,
        ...emailUpdate,
        oidcIdentities: {
          update: { where: { id: identity.id }, data: { email: email ?? null, lastLoginAt: new Date() } },
        },
      },
      select: USER_FIELDS,
    });
    logger.info({ ...logContext, userId: user.id, role: user.role }, "single sign-on succeeded");
    return { user };
  }

  const existing = email
    ? await prisma.user.findUnique({ where: { email }, select: { id: true } })
    : null;
  if (existing) {
    if (!config.linkByEmail || !emailVerified) {
      logger.warn(
        {
          ...logContext,
          userId: existing.id,
          linkByEmail: config.linkByEmail,
          emailVerified,
          reason: "SsoAccountNotLinked",
        },
        "single sign-on rejected",
      );
      return { error: "SsoAccountNotLinked" };
    }
    const user = await prisma.user.update({
      where: { id: existing.id },
      data: {
        ...roleUpdate,
        oidcIdentities: { create: { issuer: config.issuer, subject, email } },
      },
      select: USER_FIELDS,
    });
    logger.info(
      { ...logContext, userId: user.id, role: user.role },
      "single sign-on linked an existing user by verified email",
    );
    return { user };
  }

  if (!config.createUsers) {
    logger.warn({ ...logContext, reason: "SsoNoAccount" }, "single sign-on rejected");
    return { error: "SsoNoAccount" };
  }
  if (!email) {
    logger.warn({ ...logContext, reason: "SsoNoEmail" }, "single sign-on rejected");
    return { error: "SsoNoEmail" };
  }
  const user = await prisma.user.create({
    data: {
      email,
      name,
      role,
      passwordHash: NO_PASSWORD_HASH,
      oidcIdentities: { create: { issuer: config.issuer, subject, email } },
    },
    select: USER_FIELDS,
  });
  logger.info({ ...logContext, userId: user.id, role: user.role }, "single sign-on created a user");
  return { user };
}
