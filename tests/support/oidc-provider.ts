import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

import Provider, { type Configuration, type KoaContextWithOIDC } from "oidc-provider";

// A real OpenID Connect provider (panva's oidc-provider) on 127.0.0.1 for
// the single sign-on tests. Its login page is a plain form that takes an
// account id from `accounts`, without a password. Consent is granted on
// the client's behalf, as a first-party provider does.

export type TestAccount = {
  email?: string;
  emailVerified?: boolean;
  name: string;
  groups: string[];
};

export type TestOidcProviderOptions = {
  port: number;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Accounts by id, which is also their `sub` claim. */
  accounts: Record<string, TestAccount>;
};

export type TestOidcProvider = { issuer: string; close: () => Promise<void> };

const SCOPES = ["openid", "email", "profile", "groups"];

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function readForm(request: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) request.destroy(new Error("form body over 10000 characters"));
    });
    request.on("end", () => resolve(new URLSearchParams(body)));
    request.on("error", reject);
  });
}

function loginPage(uid: string, accounts: Record<string, TestAccount>): string {
  const options = Object.keys(accounts)
    .map((id) => `<option value="${escapeHtml(id)}">${escapeHtml(id)}</option>`)
    .join("");
  return `<!doctype html><html><head><title>Test identity provider</title></head><body>
<h1>Test identity provider</h1>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="account">Account</label>
<select id="account" name="account">${options}</select>
<button type="submit">Continue</button>
</form></body></html>`;
}

/** Starts the provider and returns its issuer URL, http://127.0.0.1:<port>. */
export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "RS256" };

  const configuration: Configuration = {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    scopes: SCOPES,
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name"],
      groups: ["groups"],
    },
    // Puts the scope claims into the ID token, which is where Vigil reads them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // Lifetimes in seconds, long enough for one test run.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const account = options.accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: id,
          ...(account.email === undefined
            ? {}
            : { email: account.email, email_verified: account.emailVerified ?? true }),
          name: account.name,
          groups: account.groups,
        }),
      };
    },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const session = ctx.oidc.session!;
      const clientId = ctx.oidc.client!.clientId;
      const grantId = session.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: session.accountId! });
      grant.addOIDCScope(SCOPES.join(" "));
      await grant.save();
      session.grantIdFor(clientId, grant.jti);
      return grant;
    },
  };

  const provider = new Provider(issuer, configuration);
  const handleProvider = provider.callback();

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", issuer);
    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
    if (!match) {
      handleProvider(request, response);
      return;
    }
    void (async () => {
      try {
        const details = await provider.interactionDetails(request, response);
        if (match[2] && request.method === "POST") {
          const accountId = (await readForm(request)).get("account") ?? "";
          if (!options.accounts[accountId]) {
            response.writeHead(400, { "content-type": "text/plain" }).end(`unknown account "${accountId}"`);
            return;
          }
          await provider.interactionFinished(request, response, { login: { accountId } }, { mergeWithLastSubmission: false });
          return;
        }
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(loginPage(details.uid, options.accounts));
      } catch (error) {
        response.writeHead(400, { "content-type": "text/plain" }).end(`interaction failed: ${(error as Error).message}`);
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  if (port !== options.port) throw new Error(`provider listens on ${port}, expected ${options.port}`);

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
