import { ConfigError } from "@/lib/config";
import type { Role } from "@/lib/generated/prisma/enums";
import { logger } from "@/lib/logger";

import { ROLES } from "./roles";

// Single sign-on through an OpenID Connect provider, configured by the
// VIGIL_OIDC_* environment variables. Without VIGIL_OIDC_ISSUER, single
// sign-on is off and only the email and password login exists.

/** Value of VIGIL_OIDC_DEFAULT_ROLE that rejects users whose claim maps to no role. */
export const REJECT_UNMAPPED = "none";

type Environment = Record<string, string | undefined>;

export type RoleMapping = { claimValue: string; role: Role };

export type OidcConfig = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Provider name on the login button: "Sign in with <name>". */
  displayName: string;
  scopes: string;
  /** Dot-separated path of the claim that carries groups or roles, such as "groups" or "realm_access.roles". */
  roleClaim?: string;
  /** Claim values and their roles, in the order of VIGIL_OIDC_ROLE_MAP: the first match wins. */
  roleMap: RoleMapping[];
  defaultRole: Role | typeof REJECT_UNMAPPED;
  createUsers: boolean;
  linkByEmail: boolean;
};

const BOOLEAN_VALUES: Record<string, boolean> = {
  "": false,
  false: false,
  "0": false,
  no: false,
  true: true,
  "1": true,
  yes: true,
};

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

function invalid(variable: string, problem: string): ConfigError {
  return new ConfigError(`Invalid environment configuration:\n  ${variable}: ${problem}`);
}

function parseBoolean(env: Environment, variable: string, fallback: boolean): boolean {
  const raw = env[variable]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  const value = BOOLEAN_VALUES[raw];
  if (value === undefined) {
    throw invalid(variable, `must be true or false, got "${env[variable]}"`);
  }
  return value;
}

function parseRole(value: string, variable: string): Role {
  const role = ROLES.find((name) => name === value.trim());
  if (!role) {
    throw invalid(variable, `unknown role "${value.trim()}": use one of ${ROLES.join(", ")}`);
  }
  return role;
}

/**
 * Parses the issuer URL. It must use https, except on a loopback host,
 * because the client secret and the codes travel to it.
 */
function parseIssuer(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("VIGIL_OIDC_ISSUER", `not a URL: "${raw}"`);
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw invalid(
      "VIGIL_OIDC_ISSUER",
      `must be an https:// URL (http:// only on 127.0.0.1, ::1 or localhost), got "${raw}"`,
    );
  }
  if (url.search !== "" || url.hash !== "") {
    throw invalid("VIGIL_OIDC_ISSUER", `must have no query or fragment, got "${raw}"`);
  }
  // The issuer is compared exactly with the "iss" claim, so it is kept as
  // written apart from surrounding spaces.
  return raw.trim();
}

/**
 * Parses VIGIL_OIDC_ROLE_MAP: either comma-separated `value=role` entries,
 * split at the last "=", or a JSON object of value to role for values that
 * contain commas, such as LDAP group names.
 */
export function parseRoleMap(raw: string): RoleMapping[] {
  const text = raw.trim();
  if (text === "") return [];
  let entries: [string, string][];
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw invalid("VIGIL_OIDC_ROLE_MAP", `invalid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw invalid("VIGIL_OIDC_ROLE_MAP", "JSON must be an object of claim value to role");
    }
    entries = Object.entries(parsed).map(([value, role]) => {
      if (typeof role !== "string") {
        throw invalid("VIGIL_OIDC_ROLE_MAP", `the role of "${value}" must be a string`);
      }
      return [value, role];
    });
  } else {
    entries = text
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry !== "")
      .map((entry) => {
        const separator = entry.lastIndexOf("=");
        if (separator <= 0) {
          throw invalid(
            "VIGIL_OIDC_ROLE_MAP",
            `entry "${entry}" must be claim-value=role, such as sre-admins=admin`,
          );
        }
        return [entry.slice(0, separator).trim(), entry.slice(separator + 1)];
      });
  }
  const seen = new Set<string>();
  return entries.map(([claimValue, role]) => {
    if (claimValue === "") {
      throw invalid("VIGIL_OIDC_ROLE_MAP", "a claim value must not be empty");
    }
    if (seen.has(claimValue)) {
      throw invalid("VIGIL_OIDC_ROLE_MAP", `claim value "${claimValue}" is listed twice`);
    }
    seen.add(claimValue);
    return { claimValue, role: parseRole(role, "VIGIL_OIDC_ROLE_MAP") };
  });
}

function required(env: Environment, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) {
    throw invalid(variable, "missing: required when VIGIL_OIDC_ISSUER is set");
  }
  return value;
}

/**
 * Parses the VIGIL_OIDC_* variables. Returns null when VIGIL_OIDC_ISSUER is
 * unset or empty, and throws ConfigError naming the variable when a value
 * is missing or invalid.
 */
export function parseOidcConfig(env: Environment): OidcConfig | null {
  const issuerRaw = env.VIGIL_OIDC_ISSUER?.trim();
  if (!issuerRaw) return null;

  const issuer = parseIssuer(issuerRaw);
  const clientId = required(env, "VIGIL_OIDC_CLIENT_ID");
  // Not trimmed, because a secret may end in a space.
  const clientSecret = env.VIGIL_OIDC_CLIENT_SECRET ?? "";
  if (clientSecret === "") {
    throw invalid("VIGIL_OIDC_CLIENT_SECRET", "missing: required when VIGIL_OIDC_ISSUER is set");
  }

  const displayName = env.VIGIL_OIDC_NAME?.trim() || "single sign-on";
  if (displayName.length > 60) {
    throw invalid("VIGIL_OIDC_NAME", `must be at most 60 characters, got ${displayName.length}`);
  }

  const scopes = (env.VIGIL_OIDC_SCOPES?.trim() || "openid email profile").split(/\s+/);
  if (!scopes.includes("openid")) {
    throw invalid("VIGIL_OIDC_SCOPES", `must include openid, got "${scopes.join(" ")}"`);
  }

  const roleClaim = env.VIGIL_OIDC_ROLE_CLAIM?.trim() || undefined;
  if (roleClaim !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(roleClaim)) {
    throw invalid(
      "VIGIL_OIDC_ROLE_CLAIM",
      `must be a claim name or a dot-separated path such as realm_access.roles, got "${roleClaim}"`,
    );
  }
  const roleMap = parseRoleMap(env.VIGIL_OIDC_ROLE_MAP ?? "");
  if (roleClaim !== undefined && roleMap.length === 0) {
    throw invalid("VIGIL_OIDC_ROLE_MAP", "missing: required when VIGIL_OIDC_ROLE_CLAIM is set");
  }
  if (roleClaim === undefined && roleMap.length > 0) {
    throw invalid("VIGIL_OIDC_ROLE_CLAIM", "missing: VIGIL_OIDC_ROLE_MAP needs the claim to read");
  }

  const defaultRoleRaw = env.VIGIL_OIDC_DEFAULT_ROLE?.trim() || "viewer";
  const defaultRole =
    defaultRoleRaw === REJECT_UNMAPPED
      ? REJECT_UNMAPPED
      : parseRole(defaultRoleRaw, "VIGIL_OIDC_DEFAULT_ROLE");

  return {
    issuer,
    clientId,
    clientSecret,
    displayName,
    scopes: scopes.join(" "),
    roleClaim,
    roleMap,
    defaultRole,
    createUsers: parseBoolean(env, "VIGIL_OIDC_CREATE_USERS", true),
    linkByEmail: parseBoolean(env, "VIGIL_OIDC_LINK_BY_EMAIL", false),
  };
}

/** Reads the value at a dot-separated path of the claims, or undefined. */
function readClaim(claims: Record<string, unknown>, path: string): unknown {
  // A provider may also send a flat claim whose name contains dots.
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Maps the role claim to a Vigil role: the first VIGIL_OIDC_ROLE_MAP entry
 * whose value the claim contains wins. The claim may be a string or an
 * array of strings. Returns the default role when nothing matches or no
 * role claim is configured, and null when that default is "none".
 */
export function mapRole(config: OidcConfig, claims: Record<string, unknown>): Role | null {
  if (config.roleClaim !== undefined) {
    const claim = readClaim(claims, config.roleClaim);
    const values = new Set(
      (Array.isArray(claim) ? claim : [claim]).filter(
        (value): value is string => typeof value === "string",
      ),
    );
    const match = config.roleMap.find((mapping) => values.has(mapping.claimValue));
    if (match) return match.role;
  }
  return config.defaultRole === REJECT_UNMAPPED ? null : config.defaultRole;
}

let cached: { config: OidcConfig | null } | undefined;

/**
 * Returns the single sign-on configuration of this process, parsed on first
 * use. Logs a warning when VIGIL_OIDC_* variables are set without the issuer,
 * which leaves single sign-on off.
 */
export function getOidcConfig(): OidcConfig | null {
  if (cached) return cached.config;
  const config = parseOidcConfig(process.env);
  if (config === null) {
    const ignored = Object.keys(process.env).filter(
      (name) => name.startsWith("VIGIL_OIDC_") && name !== "VIGIL_OIDC_ISSUER" && process.env[name] !== "",
    );
    if (ignored.length > 0) {
      logger.warn(
        { variables: ignored },
        "single sign-on is off because VIGIL_OIDC_ISSUER is unset; set it or remove the other VIGIL_OIDC_* variables",
      );
    }
  } else {
    logger.info({ issuer: config.issuer, roleClaim: config.roleClaim }, "single sign-on is on");
  }
  cached = { config };
  return config;
}
