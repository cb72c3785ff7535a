import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";

import { closeDb } from "@/lib/db";
import { upsertRunbooks } from "@/lib/runbooks/library";
import { upsertUser } from "@/lib/users";
import { createTestDatabase } from "@/tests/support/database";

import {
  findFreePort,
  startProcess,
  stopProcess,
  waitForHttp,
} from "./processes";
import { seedE2eData } from "./seed";
import { STATE_ENV, type E2eState, type E2eUser } from "./state";

// Playwright global set-up: a fresh database with hand-built data, users
// with random passwords, and the built app (`next start` from .next-test)
// plus the worker, on a free port in 3140-3159.

// VIGIL_E2E_DIST_DIR and VIGIL_E2E_PORTS ("first-last") let several
// checkouts or builds run the browser tests side by side.
const PORT_RANGE = (process.env.VIGIL_E2E_PORTS ?? "3140-3159")
  .split("-")
  .map(Number) as [number, number];
const DIST_DIR = process.env.VIGIL_E2E_DIST_DIR ?? ".next-test";
const SERVER_START_TIMEOUT_MS = 90_000;

export type E2eRuntime = {
  dropDatabase: () => Promise<void>;
  pids: number[];
};

declare global {
  var vigilE2eRuntime: E2eRuntime | undefined;
}

function randomPassword(): string {
  return randomBytes(18).toString("base64url");
}

export default async function globalSetup(): Promise<void> {
  if (!existsSync(path.join(DIST_DIR, "BUILD_ID"))) {
    throw new Error(
      `no build in ${DIST_DIR}: run \`VIGIL_NEXT_DIST_DIR=${DIST_DIR} npx next build\` before the browser tests`,
    );
  }

  const database = await createTestDatabase("e2e");
  const runtime: E2eRuntime = { dropDatabase: database.drop, pids: [] };
  globalThis.vigilE2eRuntime = runtime;

  try {
    process.env.DATABASE_URL = database.url;
    const users = {
      admin: {
        email: "admin@vigil.test",
        name: "Ada Admin",
        password: randomPassword(),
      },
      responder: {
        email: "responder@vigil.test",
        name: "Rui Responder",
        password: randomPassword(),
      },
      viewer: {
        email: "viewer@vigil.test",
        name: "Vera Viewer",
        password: randomPassword(),
      },
    } satisfies Record<string, E2eUser>;
    const adminId = (await upsertUser({ ...users.admin, role: "admin" })).id;
    const responderId = (
      await upsertUser({ ...users.responder, role: "responder" })
    ).id;
    await upsertUser({ ...users.viewer, role: "viewer" });

    const incidents = await seedE2eData(new Date(), {
      adminId,
      adminName: users.admin.name,
      responderId,
      responderName: users.responder.name,
    });
    // The runbook library that `npm start` installs, so that incidents the
    // worker opens during the tests get real suggestions.
    await upsertRunbooks();
    await closeDb();

    const port = await findFreePort(...PORT_RANGE);
    const baseUrl = `http://127.0.0.1:${port}`;
    // Outside Playwright's outputDir, which it empties before the tests run.
    const logDir = path.resolve("test-results/e2e-logs");
    await mkdir(logDir, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
      NEXTAUTH_URL: baseUrl,
      VIGIL_NEXT_DIST_DIR: DIST_DIR,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    };

    const server = startProcess(
      "node_modules/.bin/next",
      ["start", "--port", String(port), "--hostname", "127.0.0.1"],
      { ...env, VIGIL_PROCESS: "web" },
      path.join(logDir, "next.log"),
    );
    runtime.pids.push(server.pid!);

    // The worker trains models, scores series and opens incidents.
    const worker = startProcess(
      "node_modules/.bin/tsx",
      ["workers/main.ts"],
      { ...env, VIGIL_PROCESS: "worker" },
      path.join(logDir, "worker.log"),
    );
    runtime.pids.push(worker.pid!);

    await waitForHttp(`${baseUrl}/login`, SERVER_START_TIMEOUT_MS, server);

    const state: E2eState = {
      baseUrl,
      databaseUrl: database.url,
      users,
      incidents,
      logDir,
    };
    process.env[STATE_ENV] = JSON.stringify(state);
    process.stdout.write(
      `Vigil e2e: ${baseUrl}, server and worker logs in ${logDir}\n`,
    );
  } catch (error) {
    for (const pid of runtime.pids) await stopProcess(pid);
    await database.drop();
    globalThis.vigilE2eRuntime = undefined;
    throw error;
  }
}
