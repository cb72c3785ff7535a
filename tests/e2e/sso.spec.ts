import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

import type { Page } from "@playwright/test";

import { startTestOidcProvider, type TestAccount, type TestOidcProvider } from "@/tests/support/oidc-provider";

import { expect, test } from "./support/fixtures";
import { findFreePort, startProcess, stopProcess, waitForHttp } from "./support/processes";

// Single sign-on through a real OpenID Connect provider on 127.0.0.1. The
// suite starts the provider and a second `next start` of the e2e build with
// the VIGIL_OIDC_* variables, on the e2e database.

const PORT_RANGE = (process.env.VIGIL_E2E_PORTS ?? "3140-3159").split("-").map(Number) as [number, number];
const DIST_DIR = process.env.VIGIL_E2E_DIST_DIR ?? ".next-test";
const SERVER_START_TIMEOUT_MS = 90_000;
const PROVIDER_NAME = "Test IdP";
const CLIENT_ID = "vigil-e2e";

const accounts: Record<string, TestAccount> = {
  ana: { email: "ana@sso-e2e.test", name: "Ana SSO", groups: ["sre"] },
  vera: { email: "vera@sso-e2e.test", name: "Vera SSO", groups: ["guests"] },
  // Claims the email of the seeded admin, who has a password and no link.
  mallory: { email: "admin@vigil.test", name: "Mallory", groups: ["sre-admins"] },
};

type VigilServer = { baseUrl: string; port: number; process: ChildProcess };

type LogLine = { level: number; msg?: string; [field: string]: unknown };

function serverLogPath(logDir: string, port: number): string {
  return path.join(logDir, `next-sso-${port}.log`);
}

/** Returns the size in bytes of the server log, to read only later lines. */
async function logSize(logDir: string, port: number): Promise<number> {
  return (await stat(serverLogPath(logDir, port))).size;
}

/**
 * Returns the JSON log lines written after byte `start`. pino writes
 * asynchronously, so the lines are read after a short wait.
 */
async function logLinesSince(logDir: string, port: number, start: number): Promise<LogLine[]> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const text = (await readFile(serverLogPath(logDir, port))).subarray(start).toString("utf8");
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Starts `next start` of the e2e build with extra environment variables. */
async function startVigil(
  port: number,
  databaseUrl: string,
  logDir: string,
  extraEnv: Record<string, string>,
): Promise<VigilServer> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = startProcess(
    process.execPath,
    ["node_modules/next/dist/bin/next", "start", "--port", String(port), "--hostname", "127.0.0.1"],
    {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      VIGIL_NEXT_DIST_DIR: DIST_DIR,
      VIGIL_PROCESS: "web",
      DATABASE_URL: databaseUrl,
      NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
      NEXTAUTH_URL: baseUrl,
      LOG_LEVEL: "info",
      ...extraEnv,
    },
    serverLogPath(logDir, port),
  );
  await waitForHttp(`${baseUrl}/login`, SERVER_START_TIMEOUT_MS, child);
  return { baseUrl, port, process: child };
}

async function signInWithProvider(page: Page, baseUrl: string, account: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByRole("button", { name: `Sign in with ${PROVIDER_NAME}` }).click();
  await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
  await page.getByLabel("Account").selectOption(account);
  await page.getByRole("button", { name: "Continue" }).click();
}

/** Finds the login page's error callout, not the empty route announcer Next.js also gives the alert role. */
/** Returns the user of the browser's session as /api/auth/session reports it. */
async function sessionUser(page: Page, baseUrl: string): Promise<{ name?: string; email?: string; role?: string }> {
  const response = await page.request.get(`${baseUrl}/api/auth/session`);
  expect(response.status()).toBe(200);
  const body = (await response.json()) as { user?: { name?: string; email?: string; role?: string } };
  return body.user ?? {};
}

function signInAlert(page: Page) {
  return page.getByRole("alert").filter({ hasText: "Sign-in failed" });
}

test.describe.serial("single sign-on", () => {
  let provider: TestOidcProvider | undefined;
  let vigil: VigilServer | undefined;
  let clientSecret = "";

  test.beforeAll(async ({ state }) => {
    test.setTimeout(SERVER_START_TIMEOUT_MS + 30_000);
    const vigilPort = await findFreePort(...PORT_RANGE);
    const providerPort = await findFreePort(vigilPort + 1, PORT_RANGE[1]);
    clientSecret = randomBytes(24).toString("base64url");
    provider = await startTestOidcProvider({
      port: providerPort,
      clientId: CLIENT_ID,
      clientSecret,
      redirectUris: [`http://127.0.0.1:${vigilPort}/api/auth/callback/oidc`],
      accounts,
    });
    vigil = await startVigil(vigilPort, state.databaseUrl, state.logDir, {
      VIGIL_OIDC_ISSUER: provider.issuer,
      VIGIL_OIDC_CLIENT_ID: CLIENT_ID,
      VIGIL_OIDC_CLIENT_SECRET: clientSecret,
      VIGIL_OIDC_NAME: PROVIDER_NAME,
      VIGIL_OIDC_SCOPES: "openid email profile groups",
      VIGIL_OIDC_ROLE_CLAIM: "groups",
      VIGIL_OIDC_ROLE_MAP: "sre-admins=admin,sre=responder",
      VIGIL_OIDC_DEFAULT_ROLE: "viewer",
    });
  });

  test.afterAll(async () => {
    if (vigil?.process.pid) await stopProcess(vigil.process.pid);
    await provider?.close();
  });

  test("signs in with the mapped role", async ({ page, db }) => {
    await signInWithProvider(page, vigil!.baseUrl, "ana");
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
    const user = await sessionUser(page, vigil!.baseUrl);
    expect(user.name).toBe("Ana SSO");
    expect(user.email).toBe("ana@sso-e2e.test");
    expect(user.role).toBe("responder");

    const { rows } = await db.query<{ role: string; password_hash: string; issuer: string; subject: string }>(
      `SELECT u.role, u.password_hash, i.issuer, i.subject
       FROM user_account u JOIN oidc_identity i ON i.user_id = u.id
       WHERE u.email = 'ana@sso-e2e.test'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.role).toBe("responder");
    expect(rows[0]!.issuer).toBe(provider!.issuer);
    expect(rows[0]!.subject).toBe("ana");
    expect(rows[0]!.password_hash.startsWith("$2")).toBe(false);
  });

  test("updates the role on the next login", async ({ page, db }) => {
    accounts.ana!.groups = ["sre", "sre-admins"];
    try {
      await signInWithProvider(page, vigil!.baseUrl, "ana");
      await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
    } finally {
      accounts.ana!.groups = ["sre"];
    }
    const { rows } = await db.query<{ role: string }>(
      "SELECT role FROM user_account WHERE email = 'ana@sso-e2e.test'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.role).toBe("admin");
    // The session carries the new role: an admin-only page opens.
    await page.goto(`${vigil!.baseUrl}/settings/notifications`);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await expect(page.getByText(/^Only admins can/)).toHaveCount(0);
  });

  test("viewer claim cannot open settings", async ({ page }) => {
    await signInWithProvider(page, vigil!.baseUrl, "vera");
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
    expect((await sessionUser(page, vigil!.baseUrl)).role).toBe("viewer");
    await page.goto(`${vigil!.baseUrl}/settings/notifications`);
    await expect(page.getByText("Only admins can configure notifications; your role is viewer.")).toBeVisible();
  });

  test("email of a local user does not take it over", async ({ page, db }) => {
    await signInWithProvider(page, vigil!.baseUrl, "mallory");
    await expect(page).toHaveURL(/\/login\?(.*&)?error=SsoAccountNotLinked(&|$)/);
    await expect(signInAlert(page)).toContainText(
      `A Vigil user with your email exists but is not linked to your ${PROVIDER_NAME} account.`,
    );
    const { rows } = await db.query<{ count: string }>(
      `SELECT count(*) FROM oidc_identity i JOIN user_account u ON u.id = i.user_id
       WHERE u.email = 'admin@vigil.test'`,
    );
    expect(rows[0]!.count).toBe("0");
  });

  test("missing state shows the login page", async ({ page, state }) => {
    const logStart = await logSize(state.logDir, vigil!.port);
    const response = await page.goto(
      `${vigil!.baseUrl}/api/auth/callback/oidc?code=forged-code&state=forged-state`,
    );
    expect(response?.status()).toBe(200);
    await expect(page).toHaveURL(/\/login\?(.*&)?error=OAuthCallback(&|$)/);
    await expect(signInAlert(page)).toContainText(
      `Sign-in with ${PROVIDER_NAME} failed: Vigil could not verify the provider's response`,
    );
    const lines = await logLinesSince(state.logDir, vigil!.port, logStart);
    const rejected = lines.filter((line) => line.msg === "single sign-on callback rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.level).toBe(40);
    expect(String(rejected[0]!.errorMessage)).toContain("cookie was missing");
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  test("forged state shows the login page", async ({ page, state }) => {
    // Start a real login, so the browser has the state cookie, and then
    // send a callback with another state.
    await page.goto(`${vigil!.baseUrl}/login`);
    await page.getByRole("button", { name: `Sign in with ${PROVIDER_NAME}` }).click();
    await expect(page.getByRole("heading", { name: "Test identity provider" })).toBeVisible();
    const logStart = await logSize(state.logDir, vigil!.port);
    await page.goto(`${vigil!.baseUrl}/api/auth/callback/oidc?code=forged-code&state=forged-state`);
    await expect(page).toHaveURL(/\/login\?(.*&)?error=OAuthCallback(&|$)/);
    await expect(signInAlert(page)).toContainText(
      `Sign-in with ${PROVIDER_NAME} failed: Vigil could not verify the provider's response`,
    );
    const lines = await logLinesSince(state.logDir, vigil!.port, logStart);
    const rejected = lines.filter((line) => line.msg === "single sign-on callback rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.level).toBe(40);
    expect(String(rejected[0]!.errorMessage)).toContain("state mismatch");
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  test("password login works next to single sign-on", async ({ page, state }) => {
    await page.goto(`${vigil!.baseUrl}/login`);
    await page.getByLabel("Email").fill(state.users.admin.email);
    await page.getByLabel("Password", { exact: true }).fill(state.users.admin.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
    const user = await sessionUser(page, vigil!.baseUrl);
    expect(user.email).toBe(state.users.admin.email);
    expect(user.role).toBe("admin");
  });

  test("login page fits a phone", async ({ page }) => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${vigil!.baseUrl}/login`);
    await expect(page.getByRole("button", { name: `Sign in with ${PROVIDER_NAME}` })).toBeVisible();
    await expect(page.getByText(`Sign in with ${PROVIDER_NAME} to create one`)).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });

  test("unreachable issuer shows an error page", async ({ page, state }) => {
    test.setTimeout(SERVER_START_TIMEOUT_MS + 30_000);
    // A port in the range with nothing listening on it.
    const closedPort = await findFreePort(PORT_RANGE[0], PORT_RANGE[1]);
    const port = await findFreePort(closedPort + 1, PORT_RANGE[1]);
    const broken = await startVigil(port, state.databaseUrl, state.logDir, {
      VIGIL_OIDC_ISSUER: `http://127.0.0.1:${closedPort}`,
      VIGIL_OIDC_CLIENT_ID: CLIENT_ID,
      VIGIL_OIDC_CLIENT_SECRET: clientSecret,
      VIGIL_OIDC_NAME: PROVIDER_NAME,
    });
    try {
      await page.goto(`${broken.baseUrl}/login`);
      await page.getByRole("button", { name: `Sign in with ${PROVIDER_NAME}` }).click();
      await expect(page).toHaveURL(/\/login\?(.*&)?error=OAuthSignin(&|$)/);
      await expect(signInAlert(page)).toContainText(
        `Could not start sign-in with ${PROVIDER_NAME}: Vigil could not read the provider's discovery document.`,
      );
    } finally {
      await stopProcess(broken.process.pid!);
    }
  });
});
