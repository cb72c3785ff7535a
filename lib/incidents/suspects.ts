import { getConfig } from "@/lib/config";
import {
  addIncidentEvent,
  type NewIncidentEvent,
  type Queryable,
} from "@/lib/incidents/events";

// Change correlation: the deployments of an incident's service in the
// VIGIL_SUSPECT_LOOKBACK_MINUTES before its onset (opened_at, a data time)
// are suspects. Every status counts, because a failed or half-finished
// deployment can break a service as well. The incident page and the API
// compute the list when read, so a deployment reported late still shows;
// the timeline gets the suspects known when the incident opened.

export type SuspectDeployment = {
  deploymentId: number;
  serviceSlug: string;
  serviceName: string;
  version: string;
  environment: string;
  status: string;
  commitSha: string | null;
  description: string | null;
  deployedAt: Date;
  /** Whole minutes from the deployment to the incident's onset, rounded. */
  gapMinutes: number;
};

type SuspectRow = {
  id: number;
  slug: string;
  name: string;
  version: string;
  environment: string;
  status: string;
  commit_sha: string | null;
  description: string | null;
  deployed_at: Date;
  opened_at: Date;
};

const MINUTE_MS = 60_000;

/**
 * Returns the deployments of the incident's service from `lookbackMinutes`
 * (VIGIL_SUSPECT_LOOKBACK_MINUTES by default) before its onset up to the
 * onset, newest first. Returns an empty list for an unknown incident.
 */
export async function findSuspectDeployments(
  db: Queryable,
  incidentId: number,
  lookbackMinutes: number = getConfig().VIGIL_SUSPECT_LOOKBACK_MINUTES,
): Promise<SuspectDeployment[]> {
  const { rows } = await db.query<SuspectRow>(
    `SELECT d.id, s.slug, s.name, d.version, d.environment, d.status,
            d.commit_sha, d.description, d.deployed_at, i.opened_at
       FROM incident i
       JOIN service s ON s.id = i.service_id
       JOIN deployment d ON d.service_id = i.service_id
      WHERE i.id = $1
        AND d.deployed_at <= i.opened_at
        AND d.deployed_at >= i.opened_at - make_interval(mins => $2)
      ORDER BY d.deployed_at DESC, d.id DESC`,
    [incidentId, lookbackMinutes],
  );
  return rows.map((row) => ({
    deploymentId: row.id,
    serviceSlug: row.slug,
    serviceName: row.name,
    version: row.version,
    environment: row.environment,
    status: row.status,
    commitSha: row.commit_sha,
    description: row.description,
    deployedAt: row.deployed_at,
    gapMinutes: Math.round(
      (row.opened_at.getTime() - row.deployed_at.getTime()) / MINUTE_MS,
    ),
  }));
}

/** Formats the gap of a suspect, such as "7 minutes before onset". */
export function describeGap(gapMinutes: number): string {
  if (gapMinutes === 0) return "less than a minute before onset";
  if (gapMinutes === 1) return "1 minute before onset";
  return `${gapMinutes} minutes before onset`;
}

/** Formats one suspect for the timeline, such as "Deployment v1.2.3 of checkout 7 minutes before onset". */
export function describeSuspect(suspect: SuspectDeployment): string {
  const status = suspect.status === "success" ? "" : ` (${suspect.status})`;
  return (
    `Deployment ${suspect.version}${status} of ${suspect.serviceName} ` +
    describeGap(suspect.gapMinutes)
  );
}

export type SuspectActor = Pick<
  NewIncidentEvent,
  "actorType" | "actorId" | "actorName"
>;

/**
 * Adds one "deployment_suspects" event naming the incident's suspect
 * deployments, newest first, when it has any. Called once, in the
 * transaction that opens the incident. Returns the suspects.
 */
export async function recordSuspectDeployments(
  db: Queryable,
  incidentId: number,
  actor: SuspectActor,
): Promise<SuspectDeployment[]> {
  const lookbackMinutes = getConfig().VIGIL_SUSPECT_LOOKBACK_MINUTES;
  const suspects = await findSuspectDeployments(
    db,
    incidentId,
    lookbackMinutes,
  );
  if (suspects.length === 0) return suspects;

  const [newest, ...older] = suspects;
  const more =
    older.length === 0
      ? ""
      : `, and ${older.length} earlier deployment${older.length === 1 ? "" : "s"} ` +
        `in the ${lookbackMinutes} minutes before onset`;
  await addIncidentEvent(db, {
    incidentId,
    kind: "deployment_suspects",
    ...actor,
    message: `Suspect: ${describeSuspect(newest!)}${more}`,
    data: {
      lookbackMinutes,
      deployments: suspects.map((suspect) => ({
        deploymentId: suspect.deploymentId,
        version: suspect.version,
        environment: suspect.environment,
        status: suspect.status,
        commitSha: suspect.commitSha,
        deployedAt: suspect.deployedAt.toISOString(),
        gapMinutes: suspect.gapMinutes,
      })),
    },
  });
  return suspects;
}
