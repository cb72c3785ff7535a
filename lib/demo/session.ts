import { ApiClient, ApiRequestError } from "@/lib/demo/api-client";
import { DEMO_SERVICES, DEMO_TEAMS } from "@/lib/demo/catalog";
import type { DeploymentPayload } from "@/lib/demo/tracks";
import { getPrisma } from "@/lib/db";
import type { Logger } from "@/lib/logger";
import { upsertRunbooks } from "@/lib/runbooks/library";

// Setup the demo needs before it sends telemetry: its own admin-scope API
// token, the runbook library and the demo services with their request and
// error counters.

/** Name of the API tokens the demo creates. Each run revokes earlier ones. */
export const DEMO_TOKEN_NAME = "demo replay";

export type DemoSession = {
  client: ApiClient;
  close: () => Promise<void>;
};

type TokenFunctions = {
  createToken: (input: {
    name: string;
    scope: "ingest" | "admin";
  }) => Promise<{ token: string; id: number }>;
  revokeToken: (id: number) => Promise<unknown>;
};

export async function startDemoSession(
  options: {
    baseUrl: string;
    signal: AbortSignal;
    logger: Logger;
  } & TokenFunctions,
): Promise<DemoSession> {
  const log = options.logger;

  // The plain token lives only in this process, and each run replaces the last.
  const stale = await getPrisma().apiToken.findMany({
    where: { name: DEMO_TOKEN_NAME, revokedAt: null },
    select: { id: true },
  });
  for (const { id } of stale) await options.revokeToken(id);
  if (stale.length > 0) {
    log.info({ revoked: stale.length }, "revoked demo tokens of earlier runs");
  }
  const { token, id: tokenId } = await options.createToken({
    name: DEMO_TOKEN_NAME,
    scope: "admin",
  });
  log.info({ tokenId }, "created demo API token");

  const client = new ApiClient({
    baseUrl: options.baseUrl,
    token,
    logger: log,
    signal: options.signal,
  });

  await upsertRunbooks();
  for (const service of DEMO_SERVICES) {
    await client.send("PUT", `/api/v1/services/${service.slug}`, {
      name: service.name,
      description: service.description,
      requestMetric: service.requestMetric ?? null,
      errorMetric: service.errorMetric ?? null,
    });
  }
  log.info({ services: DEMO_SERVICES.length }, "configured demo services");

  // A team that exists already keeps its services, because an admin may
  // have changed them since an earlier run.
  const keptTeams: string[] = [];
  for (const team of DEMO_TEAMS) {
    try {
      await client.send("POST", "/api/v1/teams", team);
    } catch (error) {
      if (!(error instanceof ApiRequestError) || error.status !== 409) throw error;
      keptTeams.push(team.slug);
    }
  }
  log.info({ teams: DEMO_TEAMS.length, kept: keptTeams }, "configured demo teams");

  return {
    client,
    close: async () => {
      try {
        await options.revokeToken(tokenId);
        log.info({ tokenId }, "revoked demo API token");
      } catch (error) {
        // The database may already be stopping. The next run revokes it.
        log.warn({ err: error, tokenId }, "could not revoke demo API token");
      }
    },
  };
}

/** A demo deployment at its replay time. */
export type DemoDeployment = { time: number; payload: DeploymentPayload };

/**
 * Posts the deployments with from < time <= to in one request. With
 * `stamps`, each one's deployedAt is the stamp of its replay time.
 */
export async function sendDeployments(
  client: ApiClient,
  deployments: readonly DemoDeployment[],
  from: number,
  to: number,
  stamps?: ReadonlyMap<number, number>,
): Promise<number> {
  const due = deployments
    .filter((deployment) => deployment.time > from && deployment.time <= to)
    .map((deployment) => {
      const stamp = stamps?.get(deployment.time);
      if (stamp === undefined) return deployment.payload;
      // The commit moves with the deployment, so its lead time stays.
      const moved = stamp - deployment.time;
      return {
        ...deployment.payload,
        deployedAt: new Date(stamp).toISOString(),
        commitAt: new Date(Date.parse(deployment.payload.commitAt) + moved).toISOString(),
      };
    });
  if (due.length === 0) return 0;
  await client.send("POST", "/api/v1/deployments", { deployments: due });
  return due.length;
}
