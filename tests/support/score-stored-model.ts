import pg from "pg";

import { loadModel, scoreSeries } from "@/lib/detector/model";
import { loadModelVersion } from "@/lib/detector/model-store";

// Run as a separate process by the model lifecycle tests:
//   tsx tests/support/score-stored-model.ts <seriesId> <version> <startIndex>
// Loads one stored model version from DATABASE_URL, scores the series'
// points from startIndex on, and prints the scores as one JSON line. It
// shares no memory with the process that trained the model.

async function main(): Promise<void> {
  const [seriesId, version, startIndex] = process.argv.slice(2).map(Number);
  if (!seriesId || !version || startIndex === undefined) {
    throw new Error("usage: score-stored-model.ts <seriesId> <version> <startIndex>");
  }
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const stored = await loadModelVersion(client, seriesId, version);
    if (!stored) throw new Error(`series ${seriesId} has no version ${version}`);
    const { rows } = await client.query<{ value: number }>(
      "SELECT value FROM data_point WHERE series_id = $1 ORDER BY ts",
      [seriesId],
    );
    const model = await loadModel(stored.record);
    const scores = scoreSeries(
      model,
      rows.map((row) => row.value),
      startIndex,
    ).map((point) => point.error);
    process.stdout.write(
      JSON.stringify({ threshold: stored.record.threshold, scores }) + "\n",
    );
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
