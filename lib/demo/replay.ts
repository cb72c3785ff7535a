import { createApiToken, revokeApiToken } from "@/lib/auth/api-token";
import { MAX_POINTS_PER_REQUEST } from "@/lib/demo/batching";
import { sendDeployments, startDemoSession } from "@/lib/demo/session";
import {
  databaseIdentity,
  readDemoState,
  writeDemoState,
  type DemoState,
} from "@/lib/demo/state";
import { backfill, saveState, stream } from "@/lib/demo/stream";
import { buildDeployments, loadDemoTracks } from "@/lib/demo/tracks";
import { logger as rootLogger } from "@/lib/logger";

// The demo replay: sends NAB telemetry and demo deployments through Vigil's
// own HTTP API. The first part of every series is backfilled at once, at
// its real 5-minute spacing and ending at the time of the first run. The
// rest streams at `speed` times real time, each point stamped with the time
// it is sent, and the position is saved after every step so that a restart
// continues where the last run stopped.

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
  // Called once the backfill is in, also when an earlier run sent it.
  onBackfilled?: () => void;
};

export type DemoOutcome = "finished" | "stopped" | "failed";

/** Starting point of a demo replay, read from the state file. */
export type DemoProgress =
  | { status: "new" }
  | { status: "backfill" }
  | { status: "stream"; position: number; streamSteps: number }
  | { status: "finished" };

/** Returns the progress of a replay into this database, from its state. */
export function demoProgress(
  state: DemoState | undefined,
  databaseUrl: string,
): DemoProgress {
  if (!state || state.database !== databaseIdentity(databaseUrl)) {
    return { status: "new" };
  }
  if (!state.backfilled) return { status: "backfill" };
  if (state.position >= state.streamSteps) return { status: "finished" };
  return {
    status: "stream",
    position: state.position,
    streamSteps: state.streamSteps,
  };
}

export type DemoReplay = {
  done: Promise<DemoOutcome>;
  stop: () => Promise<DemoOutcome>;
};

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

  // The backfill ends at the time of the first run, on whole seconds.
  const cutoff = state
    ? Date.parse(state.cutoff)
    : Math.floor(now() / 1000) * 1000;
  const { tracks, shifts, streamSteps, anchor } = await loadDemoTracks(
    cutoff,
    { streamSteps: state?.streamSteps, nabDir: options.nabDir },
  );
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
  log = log.child({ cutoff: state.cutoff });

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
    options.onBackfilled?.();

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
