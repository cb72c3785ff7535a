import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

import type { Config } from "@/lib/config";
import { closeDb } from "@/lib/db";
import {
  demoProgress,
  startDemoReplay,
  type DemoProgress,
  type DemoReplay,
} from "@/lib/demo/replay";
import { readDemoState } from "@/lib/demo/state";
import { logFormat, logger } from "@/lib/logger";
import { upsertRunbooks } from "@/lib/runbooks/library";

import { ensureFirstAdmin, ensureNextAuthSecret } from "./bootstrap";
import {
  migrateDatabase,
  resolveDatabase,
  type ResolvedDatabase,
} from "./database";
import { buildNextApp, buildReason, NEXT_BIN, sourceHash } from "./next-build";
import { CliError, print, printError, seconds } from "./output";
import { checkPortFree, Supervisor, waitForHttp } from "./supervisor";

// `vigil start`: database, migrations, first admin, runbook library, web
// build, then the web server and the worker as child processes, and the
// demo replay when asked. Ctrl-C or SIGTERM stops everything in reverse.

// The worker runs in node with tsx's loader, not under the tsx command.
// That command relays signals to a second node process and kills it with
// SIGKILL when it does not confirm a signal within 30 ms (tsx 4.23), which
// on a busy machine cut the ordered shutdown short.
const WORKER_ARGS = ["--import", "tsx", "workers/main.ts"];

const CHILD_STOP_TIMEOUT_MS = 15_000;
// A crashed web server or worker is restarted: accepted data is committed,
// and the worker resumes each series from its last scored point.
const CHILD_RESTART = { maxRestarts: 5, windowMs: 5 * 60_000 };
const WEB_READY_TIMEOUT_MS = 120_000;
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

/** Returns the URL the start process itself uses to reach the web server. */
export function localWebUrl(hostname: string, port: number): string {
  if (["0.0.0.0", "localhost", "127.0.0.1", ""].includes(hostname)) {
    return `http://127.0.0.1:${port}`;
  }
  if (hostname === "::" || hostname === "::1") return `http://[::1]:${port}`;
  return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** Returns the banner line naming where the demo replay starts. */
export function demoBanner(progress: DemoProgress, speed: number): string {
  switch (progress.status) {
    case "new":
      return `Demo replay: backfilling history, then streaming at ${speed}x real time.`;
    case "backfill":
      return `Demo replay: resuming the backfill, then streaming at ${speed}x real time.`;
    case "stream":
      return `Demo replay: resuming the stream at step ${progress.position + 1} of ${progress.streamSteps}, at ${speed}x real time.`;
    case "finished":
      return "Demo replay: finished in an earlier run. Delete demo-state.json in the data folder, and the data, to replay it again.";
  }
}

async function stopBuild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

export async function startCommand(
  config: Config,
  options: { demo: boolean },
): Promise<void> {
  const phases: Record<string, number> = {};
  const root = process.cwd();
  const log = logger.child({ component: "start" });

  let database: ResolvedDatabase | undefined;
  let demo: DemoReplay | undefined;
  let build: ChildProcess | undefined;
  let shuttingDown = false;
  const supervisor = new Supervisor((name, code, signal) => {
    log.error(
      { child: name, code, signal },
      "child process exited unexpectedly and will not be restarted; stopping Vigil",
    );
    void shutdown(1);
  });

  async function shutdown(exitCode: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    print("Stopping Vigil...");
    const steps: [string, () => Promise<unknown>][] = [
      ["web build", async () => stopBuild(build)],
      ["demo replay", async () => demo?.stop()],
      ["child processes", () => supervisor.stopAll(CHILD_STOP_TIMEOUT_MS)],
      ["database connections", closeDb],
      ["database", async () => database?.stop()],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        log.error({ err: error, step: name }, "shutdown step failed");
        exitCode ||= 1;
      }
    }
    print(exitCode === 0 ? "Vigil stopped." : "Vigil stopped after an error.");
    process.exit(exitCode);
  }

  let firstSignalAt = 0;
  function onSignal(signal: NodeJS.Signals) {
    if (shuttingDown) {
      // One Ctrl-C under `npm start` arrives several times within
      // milliseconds: from the terminal, and relayed by npm and tsx.
      if (Date.now() - firstSignalAt < DUPLICATE_SIGNAL_WINDOW_MS) return;
      // A second Ctrl-C skips the orderly stop.
      printError(`Received ${signal} again; killing child processes.`);
      supervisor.killAll();
      process.exit(1);
    }
    firstSignalAt = Date.now();
    log.info({ signal }, "received signal; stopping Vigil");
    void shutdown(0);
  }

  try {
    // Checked first: otherwise the start would wait for another program's
    // server on that port and report it as Vigil.
    await checkPortFree(config.VIGIL_HOST, config.PORT).catch(
      (error: NodeJS.ErrnoException) => {
        throw new CliError(
          `Cannot listen on ${config.VIGIL_HOST}:${config.PORT} (${error.code ?? error.message}). ` +
            "Another program may be using the port: stop it, or set PORT to a free port.",
        );
      },
    );
    let mark = performance.now();
    database = await resolveDatabase(config, { command: "start" });
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);
    process.on("exit", () => supervisor.killAll());
    phases.database = performance.now() - mark;
    process.env.DATABASE_URL = database.url;
    print(
      database.kind === "external"
        ? "Using the database in DATABASE_URL."
        : `Using the embedded PostgreSQL in ${config.dataDir}/pg (port ${config.VIGIL_EMBEDDED_PG_PORT}).`,
    );

    mark = performance.now();
    const applied = await migrateDatabase(database.url);
    phases.migrations = performance.now() - mark;
    if (applied.length > 0) print(`Applied migrations: ${applied.join(", ")}`);

    const secret = await ensureNextAuthSecret(config);
    const admin = await ensureFirstAdmin(config);
    await upsertRunbooks();
    if (shuttingDown) return;

    const nextauthUrl =
      config.NEXTAUTH_URL ?? `http://localhost:${config.PORT}`;
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: database.url,
      NEXTAUTH_SECRET: secret,
      NEXTAUTH_URL: nextauthUrl,
      PORT: String(config.PORT),
      VIGIL_HOST: config.VIGIL_HOST,
      // The children write to this terminal too, so they use this format.
      LOG_FORMAT: logFormat,
      // Next.js otherwise sends anonymous usage data to Vercel.
      NEXT_TELEMETRY_DISABLED: "1",
    };
    const webEnv: NodeJS.ProcessEnv = {
      ...childEnv,
      NODE_ENV: "production",
      VIGIL_PROCESS: "web",
    };

    mark = performance.now();
    const hash = await sourceHash(root);
    const reason = await buildReason(root, hash);
    if (reason) {
      print(
        `Building the web app because ${reason}. The first build takes longest.`,
      );
      await buildNextApp(root, webEnv, (child) => {
        build = child;
      });
    }
    phases.build = performance.now() - mark;
    if (shuttingDown) return;

    mark = performance.now();
    supervisor.start({
      name: "web",
      args: [
        NEXT_BIN,
        "start",
        "-p",
        String(config.PORT),
        "-H",
        config.VIGIL_HOST,
      ],
      env: webEnv,
      cwd: root,
      restart: CHILD_RESTART,
    });
    supervisor.start({
      name: "worker",
      args: WORKER_ARGS,
      env: { ...childEnv, VIGIL_PROCESS: "worker" },
      cwd: root,
      restart: CHILD_RESTART,
    });
    const webUrl = localWebUrl(config.VIGIL_HOST, config.PORT);
    await waitForHttp(
      `${webUrl}/`,
      WEB_READY_TIMEOUT_MS,
      () => shuttingDown || !supervisor.isRunning("web"),
    );
    phases.web = performance.now() - mark;
    // From the start of this node process, so module loading counts too.
    const total = process.uptime() * 1000;

    const printLoginHint = () => {
      print("");
      print(`Vigil is running at http://localhost:${config.PORT}`);
      print(
        `  Log in as ${admin.email} with the password from ${admin.passwordSource}.`,
      );
    };
    printLoginHint();
    print(
      `  Started in ${seconds(total)} (database ${seconds(phases.database)}, migrations ${seconds(phases.migrations)}, ` +
        `build ${reason ? seconds(phases.build) : "not needed"}, web server ${seconds(phases.web)}).`,
    );
    log.info({ ms: Math.round(total), phases }, "Vigil started");

    if (options.demo || config.VIGIL_DEMO) {
      // An unreadable state file fails the replay itself, with the reason.
      const state = await readDemoState(config.dataDir).catch(() => undefined);
      const progress = demoProgress(state, database.url);
      print(`  ${demoBanner(progress, config.VIGIL_DEMO_SPEED)}`);
      demo = startDemoReplay({
        baseUrl: webUrl,
        dataDir: config.dataDir,
        databaseUrl: database.url,
        speed: config.VIGIL_DEMO_SPEED,
        maxPointsPerRequest: config.VIGIL_INGEST_MAX_POINTS,
        // The backfill's log lines push the first hint off the screen.
        onBackfilled: () => {
          if (progress.status === "stream" || shuttingDown) return;
          printLoginHint();
          print("  Demo backfill finished. The live stream has started.");
        },
      });
    }
    print("  Press Ctrl-C to stop.");
  } catch (error) {
    if (shuttingDown) return;
    if (error instanceof CliError) {
      printError(error.message);
    } else {
      log.error({ err: error }, "start failed");
      printError(`Start failed: ${(error as Error).message}`);
    }
    // Nothing to stop when the database could not be resolved.
    if (!database) process.exit(1);
    await shutdown(1);
  }
}
