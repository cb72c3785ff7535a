import { afterAll, beforeEach, describe, expect, it } from "vitest";

import {
  authenticateBearer,
  createApiToken,
  generateApiToken,
  hashApiToken,
  revokeApiToken,
} from "@/lib/auth/api-token";
import { ApiError } from "@/lib/api/errors";
import { closeDb, getPool } from "@/lib/db";
import { truncateAll } from "@/tests/support/database";

function requestWith(authorization?: string): Request {
  return new Request("http://127.0.0.1/api/v1/services", {
    headers: authorization === undefined ? {} : { authorization },
  });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError, got success");
}

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await closeDb();
});

describe("API tokens", () => {
  it("generates vgl_ plus 32 random bytes", () => {
    const token = generateApiToken();

    expect(token).toMatch(/^vgl_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), "base64url")).toHaveLength(32);
    expect(generateApiToken()).not.toBe(token);
  });

  it("hashes with SHA-256 hex", () => {
    // SHA-256 of the ASCII string "abc", from FIPS 180-2 appendix B.1.
    expect(hashApiToken("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("stores only the hash and a prefix", async () => {
    const { token, id } = await createApiToken({
      name: "ci",
      scope: "ingest",
    });

    const { rows } = await getPool().query(
      "SELECT name, token_hash, prefix, scope FROM api_token WHERE id = $1",
      [id],
    );
    expect(rows[0]).toEqual({
      name: "ci",
      token_hash: hashApiToken(token),
      prefix: token.slice(0, 10),
      scope: "ingest",
    });
    const dump = JSON.stringify(
      (await getPool().query("SELECT * FROM api_token")).rows,
    );
    expect(dump).not.toContain(token.slice(10));
  });

  it("authenticates a valid bearer token", async () => {
    const { token, id } = await createApiToken({ name: "ci", scope: "admin" });

    const row = await authenticateBearer(requestWith(`Bearer ${token}`));

    expect(row.id).toBe(id);
    expect(row.scope).toBe("admin");
  });

  it("accepts a lowercase bearer scheme", async () => {
    const { token, id } = await createApiToken({ name: "ci", scope: "ingest" });

    const row = await authenticateBearer(requestWith(`bearer ${token}`));

    expect(row.id).toBe(id);
  });

  it("rejects a missing header", async () => {
    const error = await rejection(authenticateBearer(requestWith()));

    expect(error.status).toBe(401);
    expect(error.headers["WWW-Authenticate"]).toBe('Bearer realm="vigil"');
  });

  it("rejects a non-bearer scheme", async () => {
    const error = await rejection(
      authenticateBearer(requestWith("Basic dXNlcjpwYXNz")),
    );

    expect(error.status).toBe(401);
    expect(error.message).toBe(
      "Authorization header must have the form Bearer <API token>",
    );
  });

  it("rejects an unknown token", async () => {
    const error = await rejection(
      authenticateBearer(requestWith(`Bearer ${generateApiToken()}`)),
    );

    expect(error.status).toBe(401);
    expect(error.message).toBe("invalid API token");
  });

  it("rejects a revoked token", async () => {
    const { token, id } = await createApiToken({ name: "ci", scope: "ingest" });

    expect(await revokeApiToken(id)).toBe(true);
    const error = await rejection(
      authenticateBearer(requestWith(`Bearer ${token}`)),
    );

    expect(error.status).toBe(401);
    expect(error.message).toBe("API token has been revoked");
    expect(error.logContext).toEqual({ tokenId: id });
  });

  it("reports revoking an unknown token", async () => {
    expect(await revokeApiToken(999_999)).toBe(false);
  });

  it("keeps the first revocation time", async () => {
    const { id } = await createApiToken({ name: "ci", scope: "ingest" });
    await revokeApiToken(id);
    const first = await getPool().query(
      "SELECT revoked_at FROM api_token WHERE id = $1",
      [id],
    );

    expect(await revokeApiToken(id)).toBe(true);
    const second = await getPool().query(
      "SELECT revoked_at FROM api_token WHERE id = $1",
      [id],
    );
    expect(second.rows[0].revoked_at).toEqual(first.rows[0].revoked_at);
  });

  it("updates lastUsedAt at most once a minute", async () => {
    const { token, id } = await createApiToken({ name: "ci", scope: "ingest" });
    const lastUsed = async () =>
      (
        await getPool().query<{ last_used_at: Date | null }>(
          "SELECT last_used_at FROM api_token WHERE id = $1",
          [id],
        )
      ).rows[0]!.last_used_at;

    expect(await lastUsed()).toBeNull();
    await authenticateBearer(requestWith(`Bearer ${token}`));
    const first = await lastUsed();
    expect(first).not.toBeNull();

    await authenticateBearer(requestWith(`Bearer ${token}`));
    expect(await lastUsed()).toEqual(first);

    // Two minutes later by the stored clock, the next use writes again.
    await getPool().query(
      "UPDATE api_token SET last_used_at = now() - interval '2 minutes' WHERE id = $1",
      [id],
    );
    const stale = await lastUsed();
    await authenticateBearer(requestWith(`Bearer ${token}`));
    expect((await lastUsed())!.getTime()).toBeGreaterThan(stale!.getTime());
  });

  it("rejects an empty token name", async () => {
    await expect(
      createApiToken({ name: "  ", scope: "ingest" }),
    ).rejects.toThrow("API token name must be 1 to 200 characters");
  });
});
