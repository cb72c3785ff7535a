import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import net from "node:net";

import { startProcess, waitForHttp } from "./processes";

// A `next start` server of its own for the crash tests, started from the
// .next-test build in its own process group so that a test can SIGKILL every
// process of it at once. Linux only: the listener check reads /proc.

// The same build as the global set-up (VIGIL_E2E_DIST_DIR).
const DIST_DIR = process.env.VIGIL_E2E_DIST_DIR ?? ".next-test";
const SERVER_START_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 10_000;

export type WebServerOptions = {
  port: number;
  databaseUrl: string;
  nextAuthSecret: string;
  logFile: string;
};

/** Starts `next start` on 127.0.0.1:`port` and waits until it serves /login. */
export async function startWebServer(
  options: WebServerOptions,
): Promise<ChildProcess> {
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const child = startProcess(
    process.execPath,
    [
      "node_modules/next/dist/bin/next",
      "start",
      "--port",
      String(options.port),
      "--hostname",
      "127.0.0.1",
    ],
    {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      VIGIL_NEXT_DIST_DIR: DIST_DIR,
      VIGIL_PROCESS: "web",
      DATABASE_URL: options.databaseUrl,
      NEXTAUTH_SECRET: options.nextAuthSecret,
      NEXTAUTH_URL: baseUrl,
      LOG_LEVEL: "warn",
    },
    options.logFile,
  );
  await waitForHttp(`${baseUrl}/login`, SERVER_START_TIMEOUT_MS, child);
  return child;
}

/** Returns the ids of the live processes whose process group is `groupId`. */
export function processGroupMembers(groupId: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // The process exited while the folder was read.
    }
    // Fields after the command name, which is in parentheses and may
    // contain spaces: state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie has released its sockets and memory and waits only for its
    // parent to read its exit status.
    if (fields[0] !== "Z" && Number(fields[2]) === groupId) {
      members.push(Number(entry));
    }
  }
  return members;
}

/** Returns the socket inodes listening on TCP 127.0.0.1:`port`. */
function listeningSocketInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const table = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1);
  // 0100007F is 127.0.0.1 in the kernel's byte order, and state 0A is LISTEN.
  const localAddress = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of table) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === localAddress && fields[3] === "0A") {
      inodes.add(fields[9]!);
    }
  }
  return inodes;
}

/**
 * Returns the ids of the processes in `candidates` that hold a socket
 * listening on 127.0.0.1:`port`.
 */
export function listeningProcesses(port: number, candidates: number[]): number[] {
  const inodes = listeningSocketInodes(port);
  const listeners: number[] = [];
  for (const pid of candidates) {
    let descriptors: string[];
    try {
      descriptors = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const holdsListener = descriptors.some((descriptor) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${descriptor}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        return inode !== undefined && inodes.has(inode);
      } catch {
        return false;
      }
    });
    if (holdsListener) listeners.push(pid);
  }
  return listeners;
}

/** Resolves with true when TCP 127.0.0.1:`port` accepts a connection. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Sends SIGKILL to the process group of `child` and waits until `child` has
 * exited and no process of the group is left. Throws after 10 s otherwise.
 */
export async function killProcessGroup(child: ChildProcess): Promise<void> {
  const groupId = child.pid!;
  const exited =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(-groupId, "SIGKILL");
  await exited;

  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (processGroupMembers(groupId).length > 0) {
    if (Date.now() > deadline) {
      throw new Error(
        `processes ${processGroupMembers(groupId).join(", ")} of group ${groupId} still run ${EXIT_TIMEOUT_MS} ms after SIGKILL`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
