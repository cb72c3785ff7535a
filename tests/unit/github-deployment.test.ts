import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { signGithubBody, verifyGithubSignature } from "@/lib/ingest/github";
import {
  githubServiceSlug,
  nextStatus,
  parseDeploymentStatusEvent,
  payloadObject,
} from "@/lib/ingest/github-deployments";
import { timestampLimits } from "@/lib/ingest/timestamps";

// The fixture is GitHub's example deployment_status payload
// (tests/fixtures/deployment/README.md). Its times are May 2019, so the
// limits here put "now" a day later.

const limits = timestampLimits(Date.parse("2019-05-16T12:00:00Z"), 365, 10);

function fixture(): Record<string, any> {
  return JSON.parse(
    readFileSync(
      "tests/fixtures/deployment/github-deployment-status-created-success.json",
      "utf8",
    ),
  );
}

function parseError(input: unknown): ApiError {
  try {
    parseDeploymentStatusEvent(input, limits);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

describe("verifyGithubSignature", () => {
  // Test values from GitHub's "Validating webhook deliveries" page.
  const secret = "It's a Secret to Everybody";
  const body = new TextEncoder().encode("Hello, World!");
  const signature =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("accepts GitHub's documented signature", () => {
    expect(verifyGithubSignature(secret, body, signature)).toBe(true);
  });

  it("signs like GitHub", () => {
    expect(signGithubBody(secret, "Hello, World!")).toBe(signature);
  });

  it("accepts upper-case hex", () => {
    const upper = `sha256=${signature.slice(7).toUpperCase()}`;
    expect(verifyGithubSignature(secret, body, upper)).toBe(true);
  });

  it.each([
    ["another secret", "It's a secret to everybody", signature],
    ["a missing header", secret, null],
    ["the SHA-1 header form", secret, `sha1=${signature.slice(7, 47)}`],
    ["a short digest", secret, signature.slice(0, -2)],
    ["a changed digest", secret, `${signature.slice(0, -1)}f`],
  ])("rejects %s", (_case, key, header) => {
    expect(verifyGithubSignature(key, body, header)).toBe(false);
  });

  it("rejects a changed body", () => {
    const changed = new TextEncoder().encode("Hello, World?");
    expect(verifyGithubSignature(secret, changed, signature)).toBe(false);
  });
});

describe("parseDeploymentStatusEvent", () => {
  it("parses GitHub's example event", () => {
    const event = parseDeploymentStatusEvent(fixture(), limits);

    expect(event).toEqual({
      externalId: "github:145988746",
      githubDeploymentId: 145988746,
      state: "success",
      statusAt: Date.UTC(2019, 4, 15, 15, 20, 55),
      createdAt: Date.UTC(2019, 4, 15, 15, 20, 53),
      version: "master",
      environment: "production",
      commitSha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
      // The status description is "" and the deployment's is null.
      description: null,
      repository: "Hello-World",
    });
  });

  it.each([
    ["an object", { version: "v2.3.1" }, "v2.3.1"],
    ["a JSON string", '{"version":"v2.3.1","region":"eu"}', "v2.3.1"],
    ["an empty string", "", "master"],
    ["a string that is not JSON", "deploy now", "master"],
    ["an object without version", { region: "eu" }, "master"],
    ["a blank version", { version: "  " }, "master"],
  ])("reads the version from payload as %s", (_case, payload, version) => {
    const body = fixture();
    body.deployment.payload = payload;
    expect(parseDeploymentStatusEvent(body, limits).version).toBe(version);
  });

  it("takes the status environment over the deployment's", () => {
    const body = fixture();
    body.deployment_status.environment = "staging";
    expect(parseDeploymentStatusEvent(body, limits).environment).toBe("staging");
  });

  it("cuts a long version between surrogate pairs", () => {
    const body = fixture();
    // 199 ASCII characters, then emoji of two UTF-16 code units each.
    body.deployment.ref = "v".repeat(199) + "\u{1F680}".repeat(3);
    const version = parseDeploymentStatusEvent(body, limits).version;
    expect(version).toBe("v".repeat(199));
  });

  it("drops a sha that is not hexadecimal", () => {
    const body = fixture();
    body.deployment.sha = "not-a-sha";
    expect(parseDeploymentStatusEvent(body, limits).commitSha).toBeNull();
  });

  it.each([
    ["an unknown state", (body: any) => (body.deployment_status.state = "done"), "deployment_status.state"],
    ["a missing deployment id", (body: any) => delete body.deployment.id, "deployment.id"],
    ["a missing repository", (body: any) => delete body.repository, "repository"],
    ["a status time without zone", (body: any) => (body.deployment_status.created_at = "2019-05-15 15:20:55"), "deployment_status.created_at"],
    ["a status time too old", (body: any) => (body.deployment_status.created_at = "2017-05-15T15:20:55Z"), "deployment_status.created_at"],
    // PostgreSQL text cannot store NUL, and a lone surrogate would become U+FFFD.
    ["a ref with NUL", (body: any) => (body.deployment.ref = "ma\u0000in"), "deployment.ref"],
    ["an environment with NUL", (body: any) => (body.deployment_status.environment = "prod\u0000"), "deployment_status.environment"],
    ["a description with NUL", (body: any) => (body.deployment_status.description = "d\u0000"), "deployment_status.description"],
    ["a ref with a lone surrogate", (body: any) => (body.deployment.ref = "x\ud800"), "deployment.ref"],
    ["a payload version with NUL", (body: any) => (body.deployment.payload = { version: "v\u0000" }), "deployment.payload.version"],
  ])("rejects %s", (_case, change, field) => {
    const body = fixture();
    change(body);
    const error = parseError(body);
    expect(error.status).toBe(400);
    expect(error.field).toBe(field);
  });
});

describe("payloadObject", () => {
  it.each([
    [{ a: 1 }, { a: 1 }],
    ['{"a":1}', { a: 1 }],
    ["[1,2]", null],
    ["", null],
    [null, null],
    [42, null],
  ])("reads %j", (payload, expected) => {
    expect(payloadObject(payload)).toEqual(expected);
  });
});

describe("githubServiceSlug", () => {
  const event = parseDeploymentStatusEvent(fixture(), limits);

  it("slugifies the repository name", () => {
    expect(githubServiceSlug(null, event)).toBe("hello-world");
  });

  it("prefers ?service=", () => {
    expect(githubServiceSlug("checkout", event)).toBe("checkout");
  });

  it("rejects a name without slug characters", () => {
    let caught: unknown;
    try {
      githubServiceSlug(null, { ...event, repository: "___" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).field).toBe("repository.name");
  });
});

describe("nextStatus", () => {
  it.each([
    [null, "queued", "in_progress"],
    [null, "pending", "in_progress"],
    [null, "in_progress", "in_progress"],
    [null, "success", "success"],
    [null, "failure", "failure"],
    [null, "error", "failure"],
    [null, "inactive", null],
    ["in_progress", "success", "success"],
    ["in_progress", "error", "failure"],
    ["success", "in_progress", "success"],
    ["failure", "queued", "failure"],
    ["success", "inactive", "success"],
    ["failure", "success", "success"],
    ["success", "failure", "failure"],
  ] as const)("moves %s with %s to %s", (current, state, expected) => {
    expect(nextStatus(current, state)).toBe(expected);
  });
});
