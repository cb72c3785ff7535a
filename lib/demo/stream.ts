import { ApiClient, sleep } from "@/lib/demo/api-client";
import {
  buildMetricsBodies,
  countPoints,
  type MetricsBody,
} from "@/lib/demo/batching";
import { DEMO_SERVICES } from "@/lib/demo/catalog";
import { sendDeployments, type DemoDeployment } from "@/lib/demo/session";
import { writeDemoState, type DemoState } from "@/lib/demo/state";
import {
  clockAt,
  pointsBetween,
  positionAfter,
  STEP_MS,
  streamStamps,
  type DemoTrack,
} from "@/lib/demo/timeline";
import type { Logger } from "@/lib/logger";

// The sending half of the demo replay: the backfill, and the stream loop
// that advances the shared replay clock, stamps each point with the time it
// is sent and saves the position after every step.

const PROGRESS_LOG_INTERVAL_MS = 30_000;

export async function saveState(
  dataDir: string,
  state: DemoState,
  now: () => number,
): Promise<void> {
  state.updatedAt = new Date(now()).toISOString();
  await writeDemoState(dataDir, state);
}

/**
 * Groups the points of every service between two replay times into bodies.
 * With `stamps`, each point's replay time is replaced by its stamp.
 */
function bodiesBetween(
  tracks: readonly DemoTrack[],
  from: number,
  to: number,
  maxPoints: number,
  stamps?: ReadonlyMap<number, number>,
): MetricsBody[] {
  return DEMO_SERVICES.flatMap((service) => {
    const series = tracks
      .filter((track) => track.service === service.slug)
      .map((track) => ({
        name: track.name,
        labels: track.labels,
        points: pointsBetween(track, from, to).map(
          ([time, value]): [number, number] => [
            stamps?.get(time) ?? time,
            value,
          ],
        ),
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
  deployments: readonly DemoDeployment[];
  state: DemoState;
  speed: number;
  maxPoints: number;
  dataDir: string;
  now: () => number;
  signal: AbortSignal;
  log: Logger;
};

/** Returns the replay times of every point and deployment in (from, to]. */
function replayTimesBetween(
  context: StreamContext,
  from: number,
  to: number,
): number[] {
  const times = context.tracks.flatMap((track) =>
    pointsBetween(track, from, to).map(([time]) => time),
  );
  for (const deployment of context.deployments) {
    if (deployment.time > from && deployment.time <= to) {
      times.push(deployment.time);
    }
  }
  return times;
}

export async function stream(context: StreamContext): Promise<DemoState> {
  const { state, log } = context;
  const cutoff = Date.parse(state.cutoff);
  // Stamps stay after the backfill and after the last run's stream.
  let lastStamp = Math.max(
    cutoff,
    state.lastStampedAt ? Date.parse(state.lastStampedAt) : cutoff,
  );
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
      const stamps = streamStamps(
        replayTimesBetween(context, from, to),
        context.now(),
        context.speed,
        lastStamp,
      );
      await sendDeployments(
        context.client,
        context.deployments,
        from,
        to,
        stamps,
      );
      for (const body of bodiesBetween(
        context.tracks,
        from,
        to,
        context.maxPoints,
        stamps,
      )) {
        await context.client.send("POST", "/api/v1/metrics", body);
        pointsSent += countPoints(body);
      }
      // NOTE: a stop between the last request and this save resends the
      // step on restart with later stamps, so its points are stored twice.
      state.position = target;
      for (const stamp of stamps.values()) {
        lastStamp = Math.max(lastStamp, stamp);
      }
      state.lastStampedAt = new Date(lastStamp).toISOString();
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
            replayClock: new Date(to).toISOString(),
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
