import path from "node:path";
import { pathToFileURL } from "node:url";

import type { WorkerHandle, WorkerOptions } from "@/workers/runner";

// Entry point of the worker process (`npm run worker`). The start command
// imports startWorker() instead and stops the handle itself. Modules that
// create the logger are imported lazily, so that running this file as a
// program can name the process in log lines first.

export type { WorkerHandle, WorkerOptions };

/** Starts a worker in this process; see runWorker in workers/runner.ts. */
export async function startWorker(
  options: WorkerOptions = {},
): Promise<WorkerHandle> {
  const { runWorker } = await import("@/workers/runner");
  return runWorker(options);
}

async function main(): Promise<void> {
  process.env.VIGIL_PROCESS ??= "worker";
  const { logger } = await import("@/lib/logger");
  const handle = await startWorker();

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "signal received, stopping the worker");
    handle.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "worker did not stop cleanly");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);

  await handle.promise;
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(path.resolve(entry)).href) {
  main().catch(async (error: unknown) => {
    const { logger } = await import("@/lib/logger");
    logger.fatal({ err: error }, "worker failed to start");
    process.exit(1);
  });
}
