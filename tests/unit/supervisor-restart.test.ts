import { describe, expect, it } from "vitest";

import { Supervisor } from "@/scripts/cli/supervisor";

// Real child processes that exit at once, to exercise the restart budget.

function crashingChild(restart?: { maxRestarts: number; windowMs: number }) {
  return {
    name: "crasher",
    args: ["-e", "process.exit(3)"],
    env: { ...process.env },
    cwd: process.cwd(),
    restart,
  };
}

describe("Supervisor restarts", () => {
  it("restarts until the budget is spent", async () => {
    const pids: number[] = [];
    const exits = new Promise<{ code: number | null }>((resolve) => {
      const supervisor = new Supervisor((_name, code) => resolve({ code }));
      const start = supervisor.start.bind(supervisor);
      supervisor.start = (spec) => {
        const child = start(spec);
        pids.push(child.pid!);
        return child;
      };
      supervisor.start(crashingChild({ maxRestarts: 2, windowMs: 60_000 }));
    });

    const { code } = await exits;

    expect(code).toBe(3);
    // The first start plus two restarts, each a new process.
    expect(pids).toHaveLength(3);
    expect(new Set(pids).size).toBe(3);
  }, 20_000);

  it("reports the first exit without a policy", async () => {
    const code = await new Promise<number | null>((resolve) => {
      const supervisor = new Supervisor((_name, exitCode) => resolve(exitCode));
      supervisor.start(crashingChild());
    });

    expect(code).toBe(3);
  });

  it("does not restart after stopAll", async () => {
    let reported = false;
    const supervisor = new Supervisor(() => {
      reported = true;
    });
    supervisor.start({
      ...crashingChild({ maxRestarts: 5, windowMs: 60_000 }),
      args: ["-e", "setTimeout(() => {}, 10000)"],
    });

    await supervisor.stopAll(5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    expect(supervisor.isRunning("crasher")).toBe(false);
    expect(reported).toBe(false);
  });
});
