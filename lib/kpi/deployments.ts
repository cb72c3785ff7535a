import { getPool } from "@/lib/db";
import { changeFailureWindowMinutes, kpiDeploymentEnvironments } from "@/lib/kpi/change-window";
import type { KpiOptions, KpiRange } from "@/lib/kpi/types";

// The deployments behind the deployment frequency, change failure rate and
// lead time KPIs, each with the values those KPIs read from it.

export const DEPLOYMENT_LIST_LIMIT = 500;

export type ListedDeployment = {
  id: number;
  serviceSlug: string;
  serviceName: string;
  version: string;
  environment: string;
  status: string;
  deployedAt: Date;
  commitSha: string | null;
  commitAt: Date | null;
  /** deployedAt - commitAt in seconds; null without a commit time. */
  leadTimeSeconds: number | null;
  /**
   * First incident of the service opened within the change failure window
   * after the deployment; null when none. Set for every status, but only
   * successful deployments count in the change failure rate.
   */
  followingIncident: { id: number; title: string; openedAt: Date } | null;
};

export type DeploymentList = {
  deployments: ListedDeployment[];
  /** Deployments that match, which may exceed the listed ones. */
  total: number;
  windowMinutes: number;
  /** Environments listed; null means every environment. */
  environments: string[] | null;
};

type Row = {
  id: number;
  slug: string;
  name: string;
  version: string;
  environment: string;
  status: string;
  deployed_at: Date;
  commit_sha: string | null;
  commit_at: Date | null;
  incident_id: number | null;
  incident_title: string | null;
  incident_opened_at: Date | null;
  total: string;
};

/**
 * Lists the deployments with deployed_at in [from, to) of the selected
 * services, newest first, at most DEPLOYMENT_LIST_LIMIT. Only environments
 * that the deployment KPIs count are listed (KpiOptions.deploymentEnvironments).
 * With `failedOnly`, only the successful ones an incident followed: those
 * the change failure rate counts as failed.
 */
export async function listDeploymentsInRange(
  range: KpiRange,
  { failedOnly = false, ...options }: KpiOptions & { failedOnly?: boolean } = {},
): Promise<DeploymentList> {
  const windowMinutes = changeFailureWindowMinutes(options);
  const environments = kpiDeploymentEnvironments(options);
  const { rows } = await getPool().query<Row>(
    `WITH listed AS (
       SELECT d.*, s.slug, s.name,
              following.id AS incident_id,
              following.title AS incident_title,
              following.opened_at AS incident_opened_at
       FROM deployment d
       JOIN service s ON s.id = d.service_id
       LEFT JOIN LATERAL (
         SELECT i.id, i.title, i.opened_at
         FROM incident i
         WHERE i.service_id = d.service_id
           AND i.opened_at >= d.deployed_at
           AND i.opened_at <= d.deployed_at + make_interval(mins => $4::int)
         ORDER BY i.opened_at, i.id
         LIMIT 1
       ) following ON true
       WHERE d.deployed_at >= $1 AND d.deployed_at < $2
         AND ($3::int[] IS NULL OR d.service_id = ANY($3::int[]))
         AND ($7::text[] IS NULL OR d.environment = ANY($7::text[]))
     )
     SELECT id, slug, name, version, environment, status, deployed_at,
            commit_sha, commit_at, incident_id, incident_title,
            incident_opened_at, count(*) OVER () AS total
     FROM listed
     WHERE NOT $5::boolean
        OR (status = 'success' AND incident_id IS NOT NULL)
     ORDER BY deployed_at DESC, id DESC
     LIMIT $6`,
    [
      range.from.toISOString(),
      range.to.toISOString(),
      range.serviceIds ?? null,
      windowMinutes,
      failedOnly,
      DEPLOYMENT_LIST_LIMIT,
      environments,
    ],
  );

  return {
    total: rows.length === 0 ? 0 : Number(rows[0]!.total),
    windowMinutes,
    environments,
    deployments: rows.map((row) => ({
      id: row.id,
      serviceSlug: row.slug,
      serviceName: row.name,
      version: row.version,
      environment: row.environment,
      status: row.status,
      deployedAt: row.deployed_at,
      commitSha: row.commit_sha,
      commitAt: row.commit_at,
      leadTimeSeconds:
        row.commit_at === null
          ? null
          : (row.deployed_at.getTime() - row.commit_at.getTime()) / 1000,
      followingIncident:
        row.incident_id === null
          ? null
          : {
              id: row.incident_id,
              title: row.incident_title!,
              openedAt: row.incident_opened_at!,
            },
    })),
  };
}
