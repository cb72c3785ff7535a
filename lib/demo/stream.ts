import { ApiClient, sleep } from "@/lib/demo/api-client";
import {
  buildMetricsBodies,
  countPoints,
  type MetricsBody,
} from "@/lib/demo/batching";
import { DEMO_SERVICES } from "@/lib/demo/catalog";
import { sendDeployments } from "@/lib/demo/session";
import { writeDemoState, type DemoState } from "@/lib/demo/state";
import {
  clockAt,
  pointsBetween,
  positionAfter,
  STEP_MS,
  type DemoTrack,
} from "@/lib/demo/timeline";
import type { buildDeployments } from "@/lib/demo/tracks";
import type { Logger } from "@/lib/logger";

// The sending half of the demo replay: the backfill, and the stream loop
// that advances the shared clock and saves its position after every step.

const PROGRESS_LOG_INTERVAL_MS = 30_000;

export async function saveState(
  dataDir: string,
  state: DemoState,
  now: () => number,
): Promise<void> {
  state.updatedAt = new Date(now()).toISOString();
  await writeDemoState(dataDir, state);
}

/** Groups the points of every service between two times into bodies. */
function bodiesBetween(
  tracks: readonly DemoTrack[],
  from: number,
  to: number,
  maxPoints: number,
): MetricsBody[] {
  return DEMO_SERVICES.flatMap((service) => {
    const series = tracks
      .filter((track) => track.service === service.slug)
      .map((track) => ({
        name: track.name,
        labels: track.labels,
        points: pointsBetween(track, from, to),
      }))
      .filter((entry) => entry.points.length > 0);
    return buildMetricsBodies(service.slug, series, maxPoints);
  });
}

export async function backfill(
  client: ApiClient,
  tracks: readonly DemoTrack[],
  cutoff: number,
  maxPoints: number,
  log: Logger,
): Promise<void> {
  const started = Date.now();
  const bodies = bodiesBetween(tracks, -Infinity, cutoff, maxPoints);
  let points = 0;
  log.info(
    { requests: bodies.length, series: tracks.length },
    "demo backfill started",
  );
  for (const [index, body] of bodies.entries()) {
    await client.send("POST", "/api/v1/metrics", body);
    points += countPoints(body);
    log.info(
      {
        service: body.service,
        request: index + 1,
        requests: bodies.length,
        points,
      },
      "demo backfill progress",
    );
  }
  log.info(
    { points, series: tracks.length, ms: Date.now() - started },
    "demo backfill finished",
  );
}

export type StreamContext = {
  client: ApiClient;
  tracks: readonly DemoTrack[];
  deployments: ReturnType<typeof buildDeployments>;
  state: DemoState;
  speed: number;
  maxPoints: number;
  dataDir: string;
  now: () => number;
  signal: AbortSignal;
  log: Logger;
};

export async function stream(context: StreamContext): Promise<DemoState> {
  const { state, log } = context;
  const cutoff = Date.parse(state.cutoff);
  const startPosition = state.position;
  const startTime = context.now();
  const stepIntervalMs = STEP_MS / context.speed;
  let pointsSent = 0;
  let lastLog = 0;

  log.info(
    {
      position: state.position,
      streamSteps: state.streamSteps,
      stepIntervalMs,
    },
    "demo stream started",
  );
  while (state.position < state.streamSteps) {
    // Catch up in one go when requests took longer than a step.
    const target = positionAfter(
      startPosition,
      context.now() - startTime,
      context.speed,
      state.streamSteps,
    );
    if (target > state.position) {
      const from = clockAt(cutoff, state.position);
      const to = clockAt(cutoff, target);
      await sendDeployments(context.client, context.deployments, from, to);
      for (const body of bodiesBetween(
        context.tracks,
        from,
        to,
        context.maxPoints,
      )) {
        await context.client.send("POST", "/api/v1/metrics", body);
        pointsSent += countPoints(body);
      }
      state.position = target;
      await saveState(context.dataDir, state, context.now);

      if (
        context.now() - lastLog >= PROGRESS_LOG_INTERVAL_MS ||
        target === state.streamSteps
      ) {
        lastLog = context.now();
        log.info(
          {
            position: state.position,
            streamSteps: state.streamSteps,
            clock: new Date(to).toISOString(),
            pointsSent,
            series: context.tracks.length,
          },
          "demo stream progress",
        );
      }
    }
    if (state.position >= state.streamSteps) break;

    const nextStepAt =
      startTime + (state.position - startPosition + 1) * stepIntervalMs;
    await sleepUntil(nextStepAt, context.now, context.signal);
  }
  return state;
}

async function sleepUntil(
  time: number,
  now: () => number,
  signal: AbortSignal,
): Promise<void> {
  await sleep(Math.max(0, time - now()), signal);
}
