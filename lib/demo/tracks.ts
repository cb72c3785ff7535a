import { createHash } from "node:crypto";

import {
  DEMO_DEPLOYMENTS,
  DEMO_SERIES,
  DEMO_SERVICES,
  type DemoSeries,
} from "@/lib/demo/catalog";
import { deriveErrorCounts } from "@/lib/demo/error-counter";
import {
  NAB_DIR,
  parseNabTimestamp,
  readAnomalyWindows,
  readNabSeries,
  type NabSeries,
} from "@/lib/demo/nab";
import {
  anchorFor,
  shiftFor,
  shiftTimestamps,
  streamStepCount,
  type DemoTrack,
} from "@/lib/demo/timeline";

// Turns the catalog and the NAB files into shifted tracks and deployment
// payloads for one cutoff (the end of the backfill).

export type DemoTracks = {
  tracks: DemoTrack[];
  // Row count of every NAB file the catalog uses.
  rowCounts: number[];
  // Shift (ms) of every NAB file, by its path under data/nab.
  shifts: Map<string, number>;
  streamSteps: number;
  // Time of the last point of every file: cutoff + streamSteps steps.
  anchor: number;
};

export type LoadDemoTracksOptions = {
  // Steps saved by an earlier run. Unset: computed from the files.
  streamSteps?: number;
  nabDir?: string;
  series?: readonly DemoSeries[];
};

export async function loadDemoTracks(
  cutoff: number,
  options: LoadDemoTracksOptions = {},
): Promise<DemoTracks> {
  const nabDir = options.nabDir ?? NAB_DIR;
  const series = options.series ?? DEMO_SERIES;
  const windows = await readAnomalyWindows(nabDir);
  const files = new Map<string, NabSeries>();
  for (const entry of series) {
    if (!files.has(entry.file)) {
      files.set(entry.file, await readNabSeries(entry.file, nabDir));
    }
  }

  const rowCounts = [...files.values()].map((data) => data.timestamps.length);
  const streamSteps = options.streamSteps ?? streamStepCount(rowCounts);
  const anchor = anchorFor(cutoff, streamSteps);
  const shifts = new Map<string, number>();
  for (const [file, data] of files) {
    shifts.set(file, shiftFor(data.timestamps.at(-1)!, anchor));
  }

  const tracks = series.map((entry): DemoTrack => {
    const data = files.get(entry.file)!;
    const values =
      entry.derived === "error-counter"
        ? deriveErrorCounts(
            data.timestamps,
            data.values,
            windows.get(entry.file) ?? [],
          )
        : data.values;
    return {
      ...entry,
      timestamps: shiftTimestamps(data.timestamps, shifts.get(entry.file)!),
      values,
    };
  });

  return { tracks, rowCounts, shifts, streamSteps, anchor };
}

/** Body of one deployment for POST /api/v1/deployments. */
export type DeploymentPayload = {
  id: string;
  service: string;
  version: string;
  environment: string;
  status: string;
  deployedAt: string;
  commitAt: string;
  commitSha: string;
  description: string;
};

const HOUR_MS = 60 * 60 * 1000;

/**
 * Returns the demo deployments moved by the shift of each service's
 * reference file, oldest first. The ids stay the same on every run, so a
 * resent deployment is not stored twice.
 */
export function buildDeployments(
  shifts: ReadonlyMap<string, number>,
): { time: number; payload: DeploymentPayload }[] {
  const referenceFiles = new Map(
    DEMO_SERVICES.map((service) => [service.slug, service.referenceFile]),
  );
  const deployments = DEMO_DEPLOYMENTS.map((deployment) => {
    const file = referenceFiles.get(deployment.service);
    const shift = file === undefined ? undefined : shifts.get(file);
    if (shift === undefined) {
      throw new Error(
        `demo deployment ${deployment.service} ${deployment.version}: no shift for the service's reference file`,
      );
    }
    const time = parseNabTimestamp(deployment.at) + shift;
    const commitSha = createHash("sha1")
      .update(`${deployment.service}@${deployment.version}`)
      .digest("hex");
    // A lead time of 1 to 48 hours, the same for a deployment on every run.
    const leadHours = 1 + (Number.parseInt(commitSha.slice(0, 4), 16) % 48);
    return {
      time,
      payload: {
        id: `demo-${deployment.service}-${deployment.version}`,
        service: deployment.service,
        version: deployment.version,
        environment: "production",
        status: "success",
        deployedAt: new Date(time).toISOString(),
        commitAt: new Date(time - leadHours * HOUR_MS).toISOString(),
        commitSha,
        description: deployment.description,
      },
    };
  });
  return deployments.sort((a, b) => a.time - b.time);
}
