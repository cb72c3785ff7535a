import { existsSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

import { z } from "zod";

// <dataDir>/demo-state.json keeps the demo's time shift and stream position,
// so that a restart continues the replay instead of shifting the data again.
// A file written before lastStampedAt existed still reads, because cutoff,
// anchor and streamSteps kept their meaning.

export const DEMO_STATE_FILE = "demo-state.json";

const demoStateSchema = z.object({
  version: z.literal(1),
  // host:port/database the replay wrote to. Another database starts afresh.
  database: z.string(),
  // End of the backfill: the time of the first demo run.
  cutoff: z.iso.datetime(),
  // Shifted time of the last point of every file, streamSteps 5-minute
  // steps after the cutoff.
  anchor: z.iso.datetime(),
  streamSteps: z.number().int().nonnegative(),
  position: z.number().int().nonnegative(),
  backfilled: z.boolean(),
  // Wall-clock stamp of the latest streamed point. The next one is later.
  lastStampedAt: z.iso.datetime().optional(),
  updatedAt: z.iso.datetime(),
});

export type DemoState = z.infer<typeof demoStateSchema>;

/** Returns host:port/database of a PostgreSQL URL, without credentials. */
export function databaseIdentity(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const port = url.port || "5432";
  return `${url.hostname}:${port}${url.pathname}`;
}

export function demoStatePath(dataDir: string): string {
  return path.join(dataDir, DEMO_STATE_FILE);
}

/** Reads the state file, or returns undefined when there is none. */
export async function readDemoState(
  dataDir: string,
): Promise<DemoState | undefined> {
  const file = demoStatePath(dataDir);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new Error(
      `${file} is not valid JSON (${(error as Error).message}); delete it to restart the demo from the beginning`,
    );
  }
  const result = demoStateSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(
      `${file} is invalid at "${issue?.path.join(".")}": ${issue?.message}; delete it to restart the demo from the beginning`,
    );
  }
  return result.data;
}

/** Writes the state file atomically (temporary file, then rename). */
export async function writeDemoState(
  dataDir: string,
  state: DemoState,
): Promise<void> {
  const file = demoStatePath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, file);
}
