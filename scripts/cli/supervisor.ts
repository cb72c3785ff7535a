import { spawn, type ChildProcess } from "node:child_process";

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
};

type Managed = {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  running: boolean;
};

export class Supervisor {
  private readonly children: Managed[] = [];
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
          if (!this.stopping) this.onUnexpectedExit(spec.name, code, signal);
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

  isRunning(name: string): boolean {
    return this.children.some((entry) => entry.name === name && entry.running);
  }

  /**
   * Sends SIGTERM to every child's process group, waits up to `timeoutMs`
   * for them to exit and then sends SIGKILL to the ones left.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    this.stopping = true;
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
