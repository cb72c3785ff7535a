import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

import { logger } from "@/lib/logger";

// Runs the web server and the worker as child processes. Each child leads
// its own process group, so that a stop also reaches the processes it
// starts. The terminal's Ctrl-C then reaches the start command, which stops
// them in order, but not the children. The embedded PostgreSQL runs in a
// session of its own (pg_ctl), so Ctrl-C does not reach it either.

export type ChildSpec = {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Restart the child when it exits unexpectedly, at most `maxRestarts`
   * times within `windowMs`; after that the exit counts as unexpected.
   */
  restart?: { maxRestarts: number; windowMs: number };
};

/** First restart delay; it doubles with each restart in the window. */
const RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;

type Managed = {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  running: boolean;
};

export class Supervisor {
  private readonly children: Managed[] = [];
  private readonly restarts = new Map<string, number[]>();
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly onUnexpectedExit: (
      name: string,
      code: number | null,
      signal: NodeJS.Signals | null,
    ) => void,
  ) {}

  /** Starts `node <args>` with the terminal's stdout and stderr. */
  start(spec: ChildSpec): ChildProcess {
    const child = spawn(process.execPath, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
    });
    const managed: Managed = {
      name: spec.name,
      child,
      running: true,
      exited: new Promise((resolve) => {
        child.once("exit", (code, signal) => {
          managed.running = false;
          logger.info(
            { child: spec.name, pid: child.pid, code, signal },
            "child process exited",
          );
          if (!this.stopping && !this.scheduleRestart(spec, code, signal)) {
            this.onUnexpectedExit(spec.name, code, signal);
          }
          resolve();
        });
      }),
    };
    child.once("error", (error) => {
      logger.error({ err: error, child: spec.name }, "child process failed");
    });
    this.children.push(managed);
    logger.info({ child: spec.name, pid: child.pid }, "child process started");
    return child;
  }

  /**
   * Schedules a restart of a child that exited unexpectedly, with a delay
   * that doubles per restart. Returns false when the restart budget of
   * its spec is spent, or when it has none.
   */
  private scheduleRestart(
    spec: ChildSpec,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): boolean {
    if (!spec.restart) return false;
    const now = Date.now();
    const recent = (this.restarts.get(spec.name) ?? []).filter(
      (at) => now - at < spec.restart!.windowMs,
    );
    if (recent.length >= spec.restart.maxRestarts) {
      logger.error(
        { child: spec.name, restarts: recent.length, code, signal },
        "child process keeps exiting; not restarting it again",
      );
      return false;
    }
    recent.push(now);
    this.restarts.set(spec.name, recent);
    const delayMs = Math.min(
      RESTART_DELAY_MS * 2 ** (recent.length - 1),
      MAX_RESTART_DELAY_MS,
    );
    logger.warn(
      { child: spec.name, code, signal, delayMs, restart: recent.length },
      "child process exited unexpectedly; restarting it",
    );
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (!this.stopping) this.start(spec);
    }, delayMs);
    this.restartTimers.add(timer);
    return true;
  }

  isRunning(name: string): boolean {
    return this.children.some((entry) => entry.name === name && entry.running);
  }

  /**
   * Sends SIGTERM to every child's process group, waits up to `timeoutMs`
   * for them to exit and then sends SIGKILL to the ones left.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    const running = this.children.filter((entry) => entry.running);
    for (const entry of running) signalGroup(entry, "SIGTERM");

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const result = await Promise.race([
      Promise.all(running.map((entry) => entry.exited)),
      timeout,
    ]);
    clearTimeout(timer);

    if (result === "timeout") {
      for (const entry of running.filter((item) => item.running)) {
        logger.warn(
          { child: entry.name, pid: entry.child.pid, timeoutMs },
          "child process did not stop in time; killing it",
        );
        signalGroup(entry, "SIGKILL");
      }
      await Promise.all(running.map((entry) => entry.exited));
    }
  }

  /** Kills every child group at once, for a forced exit. */
  killAll(): void {
    this.stopping = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    for (const entry of this.children) {
      if (entry.running) signalGroup(entry, "SIGKILL");
    }
  }
}

function signalGroup(entry: Managed, signal: NodeJS.Signals): void {
  const pid = entry.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") {
      logger.warn(
        { err: error, child: entry.name, pid },
        "could not signal child",
      );
    }
  }
}

/**
 * Resolves once an HTTP request to `url` gets any response. Rejects after
 * `timeoutMs`, or as soon as `abandon()` returns true (the web server died).
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  abandon: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (abandon()) throw new Error(`gave up waiting for ${url}`);
    try {
      await fetch(url, {
        redirect: "manual",
        signal: AbortSignal.timeout(5_000),
      });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`${url} did not respond within ${timeoutMs / 1000} s`);
}

/**
 * Resolves when nothing listens on host:port yet, by binding it briefly.
 * Rejects with the listen error (EADDRINUSE, EACCES, ...) otherwise.
 */
export function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve());
    });
  });
}
