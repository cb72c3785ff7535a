import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";

import type { Config } from "@/lib/config";
import { closeDb } from "@/lib/db";
import { startDemoReplay, type DemoReplay } from "@/lib/demo/replay";
import { logger } from "@/lib/logger";
import { upsertRunbooks } from "@/lib/runbooks/library";

import { ensureFirstAdmin, ensureNextAuthSecret } from "./bootstrap";
import {
  migrateDatabase,
  resolveDatabase,
  type ResolvedDatabase,
} from "./database";
import { buildNextApp, buildReason, NEXT_BIN, sourceHash } from "./next-build";
import { CliError, print, printError, seconds } from "./output";
import { Supervisor, waitForHttp } from "./supervisor";

// `vigil start`: database, migrations, first admin, runbook library, web
// build, then the web server and the worker as child processes, and the
// demo replay when asked. Ctrl-C or SIGTERM stops everything in reverse.

const require = createRequire(import.meta.url);
const TSX_CLI = require.resolve("tsx/cli");

const CHILD_STOP_TIMEOUT_MS = 15_000;
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
      "child process exited unexpectedly; stopping Vigil",
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
    });
    supervisor.start({
      name: "worker",
      args: [TSX_CLI, "workers/main.ts"],
      env: { ...childEnv, VIGIL_PROCESS: "worker" },
      cwd: root,
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

    print("");
    print(`Vigil is running at http://localhost:${config.PORT}`);
    print(
      `  Log in as ${admin.email} with the password from ${admin.passwordSource}.`,
    );
    print(
      `  Started in ${seconds(total)} (database ${seconds(phases.database)}, migrations ${seconds(phases.migrations)}, ` +
        `build ${reason ? seconds(phases.build) : "not needed"}, web server ${seconds(phases.web)}).`,
    );
    log.info({ ms: Math.round(total), phases }, "Vigil started");

    if (options.demo || config.VIGIL_DEMO) {
      print(
        `  Demo replay: backfilling history, then streaming at ${config.VIGIL_DEMO_SPEED}x real time.`,
      );
      demo = startDemoReplay({
        baseUrl: webUrl,
        dataDir: config.dataDir,
        databaseUrl: database.url,
        speed: config.VIGIL_DEMO_SPEED,
        maxPointsPerRequest: config.VIGIL_INGEST_MAX_POINTS,
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
