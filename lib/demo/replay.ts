import { createApiToken, revokeApiToken } from "@/lib/auth/api-token";
import { ApiClient, sleep } from "@/lib/demo/api-client";
import {
  buildMetricsBodies,
  countPoints,
  MAX_POINTS_PER_REQUEST,
  type MetricsBody,
} from "@/lib/demo/batching";
import { DEMO_SERVICES } from "@/lib/demo/catalog";
import { sendDeployments, startDemoSession } from "@/lib/demo/session";
import {
  databaseIdentity,
  readDemoState,
  writeDemoState,
  type DemoState,
} from "@/lib/demo/state";
import {
  clockAt,
  cutoffFor,
  pointsBetween,
  positionAfter,
  STEP_MS,
  streamStepCount,
  type DemoTrack,
} from "@/lib/demo/timeline";
import { buildDeployments, loadDemoTracks } from "@/lib/demo/tracks";
import { logger as rootLogger } from "@/lib/logger";

// The demo replay: sends NAB telemetry and demo deployments through Vigil's
// own HTTP API. The first part of every series is backfilled at once. The
// rest streams at `speed` times real time, with the position saved after
// every step so that a restart continues where the last run stopped.

export type DemoReplayOptions = {
  // Base URL of the running web server, e.g. http://127.0.0.1:3000.
  baseUrl: string;
  dataDir: string;
  databaseUrl: string;
  // 60 sends one 5-minute step every 5 seconds.
  speed: number;
  // Maximum points per request, capped at 5,000.
  maxPointsPerRequest?: number;
  nabDir?: string;
  now?: () => number;
};

export type DemoOutcome = "finished" | "stopped" | "failed";

export type DemoReplay = {
  done: Promise<DemoOutcome>;
  stop: () => Promise<DemoOutcome>;
};

const PROGRESS_LOG_INTERVAL_MS = 30_000;

export function startDemoReplay(options: DemoReplayOptions): DemoReplay {
  const controller = new AbortController();
  const log = rootLogger.child({ component: "demo" });

  const done = runReplay(options, controller.signal).then(
    (outcome) => outcome,
    (error: unknown) => {
      if (controller.signal.aborted) {
        log.info("demo replay stopped");
        return "stopped" as const;
      }
      log.error({ err: error }, "demo replay failed");
      return "failed" as const;
    },
  );

  return {
    done,
    stop: async () => {
      controller.abort(new Error("demo replay stopped"));
      return done;
    },
  };
}

async function runReplay(
  options: DemoReplayOptions,
  signal: AbortSignal,
): Promise<DemoOutcome> {
  const now = options.now ?? Date.now;
  const maxPoints = Math.min(
    MAX_POINTS_PER_REQUEST,
    options.maxPointsPerRequest ?? MAX_POINTS_PER_REQUEST,
  );
  const database = databaseIdentity(options.databaseUrl);
  let log = rootLogger.child({ component: "demo" });

  // A state file written for another database does not apply here.
  let state = await readDemoState(options.dataDir);
  if (state && state.database !== database) {
    log.info(
      { previousDatabase: state.database, database },
      "demo state belongs to another database; starting the replay afresh",
    );
    state = undefined;
  }

  const anchor = state
    ? Date.parse(state.anchor)
    : Math.floor(now() / 1000) * 1000;
  const { tracks, rowCounts, shifts } = await loadDemoTracks(
    anchor,
    options.nabDir,
  );
  const streamSteps = state?.streamSteps ?? streamStepCount(rowCounts);
  const cutoff = cutoffFor(anchor, streamSteps);
  state ??= {
    version: 1,
    database,
    anchor: new Date(anchor).toISOString(),
    cutoff: new Date(cutoff).toISOString(),
    streamSteps,
    position: 0,
    backfilled: false,
    updatedAt: new Date(now()).toISOString(),
  };
  await writeDemoState(options.dataDir, state);
  log = log.child({ anchor: state.anchor });

  if (state.backfilled && state.position >= state.streamSteps) {
    log.info("demo replay already finished in an earlier run");
    return "finished";
  }

  const session = await startDemoSession({
    baseUrl: options.baseUrl,
    signal,
    logger: log,
    createToken: createApiToken,
    revokeToken: revokeApiToken,
  });
  try {
    const deployments = buildDeployments(shifts);
    const client = session.client;

    if (!state.backfilled) {
      await sendDeployments(client, deployments, -Infinity, cutoff);
      await backfill(client, tracks, cutoff, maxPoints, log);
      state = { ...state, backfilled: true };
      await saveState(options.dataDir, state, now);
    } else {
      log.info(
        { position: state.position, streamSteps: state.streamSteps },
        "resuming demo stream from the saved position",
      );
    }

    state = await stream({
      client,
      tracks,
      deployments,
      state,
      speed: options.speed,
      maxPoints,
      dataDir: options.dataDir,
      now,
      signal,
      log,
    });
    log.info({ streamSteps: state.streamSteps }, "demo replay finished");
    return "finished";
  } finally {
    await session.close();
  }
}

async function saveState(
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

async function backfill(
  client: ApiClient,
  tracks: readonly DemoTrack[],
  cutoff: number,
  maxPoints: number,
  log: typeof rootLogger,
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

type StreamContext = {
  client: ApiClient;
  tracks: readonly DemoTrack[];
  deployments: ReturnType<typeof buildDeployments>;
  state: DemoState;
  speed: number;
  maxPoints: number;
  dataDir: string;
  now: () => number;
  signal: AbortSignal;
  log: typeof rootLogger;
};

async function stream(context: StreamContext): Promise<DemoState> {
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
