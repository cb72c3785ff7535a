import { afterAll, beforeEach, describe, expect, it } from "vitest";

import { ConfigError } from "@/lib/config";
import { mapRole, parseOidcConfig, type OidcConfig } from "@/lib/auth/oidc-config";
import { NO_PASSWORD_HASH, resolveSsoUser } from "@/lib/auth/oidc-users";
import { hashPassword } from "@/lib/auth/password";
import { closeDb, getPrisma } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

// Parsing of the VIGIL_OIDC_* variables, role mapping, and how verified ID
// token claims find, link or create users in PostgreSQL.

const ISSUER = "https://id.example.test/realms/ops";

const BASE_ENV = {
  VIGIL_OIDC_ISSUER: ISSUER,
  VIGIL_OIDC_CLIENT_ID: "vigil",
  VIGIL_OIDC_CLIENT_SECRET: "client-secret-value",
};

function configFor(env: Record<string, string>): OidcConfig {
  const config = parseOidcConfig({ ...BASE_ENV, ...env });
  if (!config) throw new Error("expected a configuration");
  return config;
}

function configErrorOf(env: Record<string, string | undefined>): string {
  try {
    parseOidcConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("parseOidcConfig", () => {
  it("returns null without an issuer", () => {
    expect(parseOidcConfig({})).toBeNull();
    expect(parseOidcConfig({ VIGIL_OIDC_ISSUER: "  " })).toBeNull();
  });

  it("applies the defaults", () => {
    const config = configFor({});
    expect(config.issuer).toBe(ISSUER);
    expect(config.displayName).toBe("single sign-on");
    expect(config.scopes).toBe("openid email profile");
    expect(config.roleClaim).toBeUndefined();
    expect(config.roleMap).toEqual([]);
    expect(config.defaultRole).toBe("viewer");
    expect(config.createUsers).toBe(true);
    expect(config.linkByEmail).toBe(false);
  });

  it("reads every variable", () => {
    const config = configFor({
      VIGIL_OIDC_NAME: "Okta",
      VIGIL_OIDC_SCOPES: "openid email profile groups",
      VIGIL_OIDC_ROLE_CLAIM: "realm_access.roles",
      VIGIL_OIDC_ROLE_MAP: "sre-admins=admin, sre = responder,leads=manager",
      VIGIL_OIDC_DEFAULT_ROLE: "none",
      VIGIL_OIDC_CREATE_USERS: "false",
      VIGIL_OIDC_LINK_BY_EMAIL: "yes",
    });
    expect(config.displayName).toBe("Okta");
    expect(config.scopes).toBe("openid email profile groups");
    expect(config.roleClaim).toBe("realm_access.roles");
    expect(config.roleMap).toEqual([
      { claimValue: "sre-admins", role: "admin" },
      { claimValue: "sre", role: "responder" },
      { claimValue: "leads", role: "manager" },
    ]);
    expect(config.defaultRole).toBe("none");
    expect(config.createUsers).toBe(false);
    expect(config.linkByEmail).toBe(true);
  });

  it("reads a JSON role map with commas in values", () => {
    const config = configFor({
      VIGIL_OIDC_ROLE_CLAIM: "groups",
      VIGIL_OIDC_ROLE_MAP: '{"cn=sre,ou=groups,dc=example":"responder","cn=ops,ou=groups":"admin"}',
    });
    expect(config.roleMap).toEqual([
      { claimValue: "cn=sre,ou=groups,dc=example", role: "responder" },
      { claimValue: "cn=ops,ou=groups", role: "admin" },
    ]);
  });

  it.each([
    [{ VIGIL_OIDC_ISSUER: "not a url" }, "VIGIL_OIDC_ISSUER: not a URL"],
    [{ VIGIL_OIDC_ISSUER: "http://id.example.test" }, "VIGIL_OIDC_ISSUER: must be an https:// URL"],
    [{ VIGIL_OIDC_ISSUER: `${ISSUER}?tenant=1` }, "VIGIL_OIDC_ISSUER: must have no query"],
    [{ VIGIL_OIDC_CLIENT_ID: "" }, "VIGIL_OIDC_CLIENT_ID: missing"],
    [{ VIGIL_OIDC_CLIENT_SECRET: "" }, "VIGIL_OIDC_CLIENT_SECRET: missing"],
    [{ VIGIL_OIDC_SCOPES: "email profile" }, "VIGIL_OIDC_SCOPES: must include openid"],
    [{ VIGIL_OIDC_ROLE_CLAIM: "groups" }, "VIGIL_OIDC_ROLE_MAP: missing"],
    [{ VIGIL_OIDC_ROLE_MAP: "sre=admin" }, "VIGIL_OIDC_ROLE_CLAIM: missing"],
    [{ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre=root" }, 'unknown role "root"'],
    [{ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre" }, 'entry "sre" must be claim-value=role'],
    [{ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "a=admin,a=viewer" }, '"a" is listed twice'],
    [{ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "{bad json" }, "VIGIL_OIDC_ROLE_MAP: invalid JSON"],
    [{ VIGIL_OIDC_ROLE_CLAIM: "a..b", VIGIL_OIDC_ROLE_MAP: "x=admin" }, "VIGIL_OIDC_ROLE_CLAIM: must be a claim name"],
    [{ VIGIL_OIDC_DEFAULT_ROLE: "owner" }, "VIGIL_OIDC_DEFAULT_ROLE: unknown role"],
    [{ VIGIL_OIDC_CREATE_USERS: "maybe" }, "VIGIL_OIDC_CREATE_USERS: must be true or false"],
  ])("rejects %o", (override, expected) => {
    const message = configErrorOf({ ...BASE_ENV, ...override });
    expect(message).toContain(expected);
  });

  it("accepts http on a loopback issuer", () => {
    expect(configFor({ VIGIL_OIDC_ISSUER: "http://127.0.0.1:3290" }).issuer).toBe("http://127.0.0.1:3290");
    expect(configFor({ VIGIL_OIDC_ISSUER: "http://[::1]:3290/" }).issuer).toBe("http://[::1]:3290/");
  });

  it("keeps the client secret out of errors", () => {
    const message = configErrorOf({ ...BASE_ENV, VIGIL_OIDC_DEFAULT_ROLE: "owner" });
    expect(message).not.toContain(BASE_ENV.VIGIL_OIDC_CLIENT_SECRET);
  });
});

describe("mapRole", () => {
  const config = configFor({
    VIGIL_OIDC_ROLE_CLAIM: "groups",
    VIGIL_OIDC_ROLE_MAP: "sre-admins=admin,sre=responder,leads=manager",
  });

  it.each([
    [{ groups: ["sre"] }, "responder"],
    [{ groups: "leads" }, "manager"],
    [{ groups: ["sre", "sre-admins"] }, "admin"],
    [{ groups: ["leads", "sre"] }, "responder"],
    [{ groups: ["other"] }, "viewer"],
    [{ groups: [42, null] }, "viewer"],
    [{}, "viewer"],
  ])("maps %o to %s", (claims, role) => {
    expect(mapRole(config, claims)).toBe(role);
  });

  it("reads a nested claim", () => {
    const nested = configFor({ VIGIL_OIDC_ROLE_CLAIM: "realm_access.roles", VIGIL_OIDC_ROLE_MAP: "ops=admin" });
    expect(mapRole(nested, { realm_access: { roles: ["ops"] } })).toBe("admin");
    expect(mapRole(nested, { realm_access: "ops" })).toBe("viewer");
  });

  it("returns null for unmapped users with default none", () => {
    const strict = configFor({ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre=responder", VIGIL_OIDC_DEFAULT_ROLE: "none" });
    expect(mapRole(strict, { groups: ["other"] })).toBeNull();
    expect(mapRole(strict, { groups: ["sre"] })).toBe("responder");
  });
});

describe("resolveSsoUser", () => {
  const prisma = () => getPrisma();
  const mapped = configFor({
    VIGIL_OIDC_ROLE_CLAIM: "groups",
    VIGIL_OIDC_ROLE_MAP: "sre-admins=admin,sre=responder",
  });

  function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      iss: ISSUER,
      sub: "user-1",
      email: "Ana@Example.test",
      email_verified: true,
      name: "Ana Pérez",
      groups: ["sre"],
      ...extra,
    };
  }

  beforeEach(async () => {
    await truncateAll(process.env.DATABASE_URL!);
  });

  afterAll(async () => {
    await closeDb();
  });

  it("creates a user without a password", async () => {
    const result = await resolveSsoUser(mapped, claims());
    expect(result).toHaveProperty("user");
    const user = await prisma().user.findUniqueOrThrow({
      where: { email: "ana@example.test" },
      include: { oidcIdentities: true },
    });
    expect(user.role).toBe("responder");
    expect(user.name).toBe("Ana Pérez");
    expect(user.passwordHash).toBe(NO_PASSWORD_HASH);
    expect(user.oidcIdentities).toHaveLength(1);
    expect(user.oidcIdentities[0]!.issuer).toBe(ISSUER);
    expect(user.oidcIdentities[0]!.subject).toBe("user-1");
  });

  it("sets the role from the claim on each login", async () => {
    await resolveSsoUser(mapped, claims());
    const promoted = await resolveSsoUser(mapped, claims({ groups: ["sre-admins"] }));
    expect(promoted).toHaveProperty("user.role", "admin");
    const demoted = await resolveSsoUser(mapped, claims({ groups: [] }));
    expect(demoted).toHaveProperty("user.role", "viewer");
    expect(await prisma().user.count()).toBe(1);
  });

  it("keeps a role set in Vigil without a role claim", async () => {
    const plain = configFor({});
    const first = await resolveSsoUser(plain, claims());
    if (!("user" in first)) throw new Error(`rejected: ${first.error}`);
    expect(first.user.role).toBe("viewer");
    await prisma().user.update({ where: { id: first.user.id }, data: { role: "manager" } });
    const second = await resolveSsoUser(plain, claims());
    expect(second).toHaveProperty("user.role", "manager");
  });

  it("follows an email change by subject", async () => {
    const first = await resolveSsoUser(mapped, claims());
    const second = await resolveSsoUser(mapped, claims({ email: "ana.perez@example.test" }));
    if (!("user" in first) || !("user" in second)) throw new Error("rejected");
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.email).toBe("ana.perez@example.test");
    expect(await prisma().user.count()).toBe(1);
  });

  it("keeps the email when another user has it", async () => {
    await prisma().user.create({
      data: { email: "taken@example.test", name: "Bo Lind", passwordHash: await hashPassword("bo-password-123"), role: "admin" },
    });
    const first = await resolveSsoUser(mapped, claims());
    const second = await resolveSsoUser(mapped, claims({ email: "taken@example.test" }));
    if (!("user" in first) || !("user" in second)) throw new Error("rejected");
    expect(second.user.id).toBe(first.user.id);
    expect(second.user.email).toBe("ana@example.test");
  });

  it("rejects taking over a local user by email", async () => {
    const local = await prisma().user.create({
      data: { email: "ana@example.test", name: "Ana", passwordHash: await hashPassword("ana-password-123"), role: "admin" },
    });
    expect(await resolveSsoUser(mapped, claims())).toEqual({ error: "SsoAccountNotLinked" });

    const linking = configFor({ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre=responder", VIGIL_OIDC_LINK_BY_EMAIL: "true" });
    expect(await resolveSsoUser(linking, claims({ email_verified: false }))).toEqual({ error: "SsoAccountNotLinked" });
    expect(await resolveSsoUser(linking, claims({ email_verified: "true" }))).toEqual({ error: "SsoAccountNotLinked" });
    expect(await prisma().oidcIdentity.count()).toBe(0);
    const unchanged = await prisma().user.findUniqueOrThrow({ where: { id: local.id } });
    expect(unchanged.role).toBe("admin");
  });

  it("links a local user by verified email when allowed", async () => {
    const local = await prisma().user.create({
      data: { email: "ana@example.test", name: "Ana", passwordHash: await hashPassword("ana-password-123"), role: "viewer" },
    });
    const linking = configFor({ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre=responder", VIGIL_OIDC_LINK_BY_EMAIL: "true" });
    const result = await resolveSsoUser(linking, claims());
    expect(result).toEqual({ user: { id: local.id, name: "Ana", email: "ana@example.test", role: "responder" } });
    const identity = await prisma().oidcIdentity.findFirstOrThrow();
    expect(identity.userId).toBe(local.id);
    // The password still works after linking.
    const stored = await prisma().user.findUniqueOrThrow({ where: { id: local.id } });
    expect(stored.passwordHash.startsWith("$2")).toBe(true);
  });

  it("rejects unknown users when creation is off", async () => {
    const closed = configFor({ VIGIL_OIDC_CREATE_USERS: "false" });
    expect(await resolveSsoUser(closed, claims())).toEqual({ error: "SsoNoAccount" });
    expect(await prisma().user.count()).toBe(0);
  });

  it("rejects a new user without an email", async () => {
    expect(await resolveSsoUser(mapped, claims({ email: undefined }))).toEqual({ error: "SsoNoEmail" });
    expect(await prisma().user.count()).toBe(0);
  });

  it("rejects an unmapped user with default none", async () => {
    const strict = configFor({ VIGIL_OIDC_ROLE_CLAIM: "groups", VIGIL_OIDC_ROLE_MAP: "sre=responder", VIGIL_OIDC_DEFAULT_ROLE: "none" });
    expect(await resolveSsoUser(strict, claims({ groups: ["guests"] }))).toEqual({ error: "SsoNoRole" });
    expect(await prisma().user.count()).toBe(0);
  });

  it("rejects claims of another issuer or without sub", async () => {
    expect(await resolveSsoUser(mapped, claims({ iss: "https://evil.example.test" }))).toEqual({ error: "SsoInvalidToken" });
    expect(await resolveSsoUser(mapped, claims({ sub: "" }))).toEqual({ error: "SsoInvalidToken" });
    expect(await prisma().user.count()).toBe(0);
  });

  it("creates one user for concurrent first logins", async () => {
    const results = await Promise.all([resolveSsoUser(mapped, claims()), resolveSsoUser(mapped, claims())]);
    const ids = results.map((result) => ("user" in result ? result.user.id : null));
    expect(ids[0]).not.toBeNull();
    expect(ids[1]).toBe(ids[0]);
    expect(await prisma().user.count()).toBe(1);
    expect(await prisma().oidcIdentity.count()).toBe(1);
  });
});
