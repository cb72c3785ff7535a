import pg from "pg";

import { logger } from "@/lib/logger";
import { runTrainSeries } from "@/workers/train-series";

// Run as a separate process by the model lifecycle tests:
//   tsx tests/support/crash-training.ts <trainingJobId> <killAfterEpoch>
// Runs the real train-series code on a training job and kills its own
// process with SIGKILL after the given epoch, as a worker crash would,
// before anything but the progress row is written.

async function main(): Promise<void> {
  const [trainingJobId, killAfterEpoch] = process.argv.slice(2).map(Number);
  if (!trainingJobId || !killAfterEpoch) {
    throw new Error("usage: crash-training.ts <trainingJobId> <killAfterEpoch>");
  }
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await runTrainSeries(client, trainingJobId, logger, {
    params: { epochs: killAfterEpoch + 3 },
    onEpochEnd: (epochsDone) => {
      if (epochsDone === killAfterEpoch) process.kill(process.pid, "SIGKILL");
    },
  });
  process.stderr.write("training finished although it should have been killed\n");
  process.exit(2);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
