import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { POST as postDeployments } from "@/app/api/v1/deployments/route";
import { POST as postMetrics } from "@/app/api/v1/metrics/route";
import { PUT as putService } from "@/app/api/v1/services/[slug]/route";
import { POST as postTeam } from "@/app/api/v1/teams/route";
import { closeDb, getPool } from "@/lib/db";
import {
  DEMO_DEPLOYMENTS,
  DEMO_SERIES,
  DEMO_SERVICES,
  DEMO_TEAMS,
} from "@/lib/demo/catalog";
import { readNabSeries } from "@/lib/demo/nab";
import { startDemoReplay } from "@/lib/demo/replay";
import { DEMO_TOKEN_NAME } from "@/lib/demo/session";
import { readDemoState } from "@/lib/demo/state";
import { STEP_MS } from "@/lib/demo/timeline";
import { loadRunbookLibrary } from "@/lib/runbooks/library";
import { truncateAll } from "@/tests/support/database";

// Runs the demo replay against Vigil's real ingest route handlers, served
// by a plain node:http server on 127.0.0.1, and checks what reached the
// database.

const PORT = 3172;
const BASE_URL = `http://127.0.0.1:${PORT}`;
let server: http.Server;
let dataDir: string;

type RouteHandler = (
  request: Request,
  context?: { params?: Promise<Record<string, string>> },
) => Promise<Response>;

function route(
  method: string,
  pathname: string,
): { handler: RouteHandler; params: Record<string, string> } | undefined {
  if (method === "POST" && pathname === "/api/v1/metrics") {
    return { handler: postMetrics as RouteHandler, params: {} };
  }
  if (method === "POST" && pathname === "/api/v1/deployments") {
    return { handler: postDeployments as RouteHandler, params: {} };
  }
  if (method === "POST" && pathname === "/api/v1/teams") {
    return { handler: postTeam as RouteHandler, params: {} };
  }
  const service = /^\/api\/v1\/services\/([^/]+)$/.exec(pathname);
  if (method === "PUT" && service) {
    return {
      handler: putService as RouteHandler,
      params: { slug: decodeURIComponent(service[1]!) },
    };
  }
  return undefined;
}

async function serve(
  incoming: http.IncomingMessage,
  outgoing: http.ServerResponse,
) {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const url = new URL(incoming.url ?? "/", BASE_URL);
  const match = route(incoming.method ?? "GET", url.pathname);
  if (!match) {
    outgoing.writeHead(404).end();
    return;
  }
  const request = new Request(url, {
    method: incoming.method,
    headers: incoming.headers as Record<string, string>,
    body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
  });
  const response = await match.handler(request, {
    params: Promise.resolve(match.params),
  });
  outgoing.writeHead(response.status, Object.fromEntries(response.headers));
  outgoing.end(Buffer.from(await response.arrayBuffer()));
}

beforeAll(async () => {
  server = http.createServer((incoming, outgoing) => {
    serve(incoming, outgoing).catch((error: unknown) => {
      outgoing.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(PORT, "127.0.0.1", resolve),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await closeDb();
});

beforeEach(async () => {
  await truncateAll(process.env.DATABASE_URL!);
  dataDir = await mkdtemp(path.join(os.tmpdir(), "ops-demo-replay-"));
  return () => rm(dataDir, { recursive: true, force: true });
});

/** Returns the number of distinct timestamps of every demo series' file. */
async function expectedPointCounts(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const series of DEMO_SERIES) {
    const file = await readNabSeries(series.file);
    const key = `${series.service}/${series.name}/${JSON.stringify(series.labels)}`;
    counts.set(key, new Set(file.timestamps).size);
  }
  return counts;
}

async function storedPointCounts(): Promise<Map<string, number>> {
  const { rows } = await getPool().query<{
    slug: string;
    name: string;
    labels: Record<string, string>;
    points: string;
  }>(
    `SELECT s.slug, ms.name, ms.labels, count(dp.ts) AS points
     FROM metric_series ms
     JOIN service s ON s.id = ms.service_id
     LEFT JOIN data_point dp ON dp.series_id = ms.id
     GROUP BY s.slug, ms.name, ms.labels`,
  );
  return new Map(
    rows.map((row) => [
      `${row.slug}/${row.name}/${JSON.stringify(row.labels)}`,
      Number(row.points),
    ]),
  );
}

describe("demo replay", () => {
  it("sends the whole replay through the API", async () => {
    const before = Date.now();
    const replay = startDemoReplay({
      baseUrl: BASE_URL,
      dataDir,
      databaseUrl: process.env.DATABASE_URL!,
      speed: 60_000,
    });
    expect(await replay.done).toBe("finished");

    const stored = await storedPointCounts();
    const expected = await expectedPointCounts();
    expect(stored.size).toBe(DEMO_SERIES.length);
    for (const [key, count] of expected) {
      expect(stored.get(key), key).toBe(count);
    }

    const finishedAt = Date.now();
    const state = (await readDemoState(dataDir))!;
    expect(state.backfilled).toBe(true);
    expect(state.position).toBe(state.streamSteps);
    const cutoff = Date.parse(state.cutoff);
    expect(cutoff).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(cutoff).toBeLessThanOrEqual(finishedAt);

    // The backfill ends at the cutoff at 5-minute spacing, and the stream
    // is stamped with send times after it.
    const { rows: ranges } = await getPool().query<{
      series_id: number;
      last_backfilled: Date;
      first_streamed: Date;
      last_streamed: Date;
      streamed: string;
    }>(
      `SELECT series_id,
              max(ts) FILTER (WHERE ts <= $1) AS last_backfilled,
              min(ts) FILTER (WHERE ts > $1) AS first_streamed,
              max(ts) AS last_streamed,
              count(*) FILTER (WHERE ts > $1) AS streamed
       FROM data_point GROUP BY series_id`,
      [new Date(cutoff)],
    );
    expect(ranges).toHaveLength(DEMO_SERIES.length);
    for (const row of ranges) {
      const id = `series ${row.series_id}`;
      expect(row.last_backfilled.getTime(), id).toBeGreaterThan(
        cutoff - STEP_MS,
      );
      expect(Number(row.streamed), id).toBeGreaterThan(0);
      expect(row.first_streamed.getTime(), id).toBeGreaterThan(cutoff);
      expect(row.last_streamed.getTime(), id).toBeLessThanOrEqual(finishedAt);
      expect(row.last_streamed.getTime(), id).toBeLessThanOrEqual(
        Date.parse(state.lastStampedAt!),
      );
    }

    const { rows: services } = await getPool().query<{
      slug: string;
      name: string;
      request_metric: string | null;
      error_metric: string | null;
    }>("SELECT slug, name, request_metric, error_metric FROM service");
    expect(services).toHaveLength(DEMO_SERVICES.length);
    const checkout = services.find((row) => row.slug === "checkout-api")!;
    expect(checkout.name).toBe("Checkout API");
    expect(checkout.request_metric).toBe("elb_request_count");
    expect(checkout.error_metric).toBe("elb_5xx_count");

    const { rows: teams } = await getPool().query<{ service: string; team: string | null }>(
      "SELECT s.slug AS service, t.slug AS team FROM service s LEFT JOIN team t ON t.id = s.team_id",
    );
    for (const team of DEMO_TEAMS) {
      for (const slug of team.services) {
        expect(teams.find((row) => row.service === slug)?.team, slug).toBe(team.slug);
      }
    }

    const { rows: deployments } = await getPool().query<{
      external_id: string;
      deployed_at: Date;
    }>("SELECT external_id, deployed_at FROM deployment");
    expect(deployments).toHaveLength(DEMO_DEPLOYMENTS.length);
    for (const row of deployments) {
      expect(row.external_id).toMatch(/^demo-/);
      expect(row.deployed_at.getTime()).toBeLessThanOrEqual(finishedAt);
    }

    const { rows: runbooks } = await getPool().query(
      "SELECT slug FROM runbook",
    );
    expect(runbooks).toHaveLength((await loadRunbookLibrary()).length);

    const { rows: tokens } = await getPool().query<{ revoked_at: Date | null }>(
      "SELECT revoked_at FROM api_token WHERE name = $1",
      [DEMO_TOKEN_NAME],
    );
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.revoked_at).not.toBeNull();
  });

  it("resumes after a stop without shifting again", async () => {
    const first = startDemoReplay({
      baseUrl: BASE_URL,
      dataDir,
      databaseUrl: process.env.DATABASE_URL!,
      speed: 60,
    });
    // Wait until the backfill is done and the stream has begun.
    for (let i = 0; i < 600; i += 1) {
      const state = await readDemoState(dataDir).catch(() => undefined);
      if (state?.backfilled) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await first.stop()).toBe("stopped");
    const stopped = (await readDemoState(dataDir))!;
    expect(stopped.backfilled).toBe(true);
    expect(stopped.position).toBeLessThan(stopped.streamSteps);
    const resumedAt = Date.now();

    const second = startDemoReplay({
      baseUrl: BASE_URL,
      dataDir,
      databaseUrl: process.env.DATABASE_URL!,
      speed: 60_000,
    });
    expect(await second.done).toBe("finished");
    const finished = (await readDemoState(dataDir))!;
    expect(finished.cutoff).toBe(stopped.cutoff);
    expect(finished.anchor).toBe(stopped.anchor);
    expect(finished.position).toBe(finished.streamSteps);

    // Steps after the saved position carry the time of the second run.
    const { rows: late } = await getPool().query<{ count: string }>(
      "SELECT count(*) FROM data_point WHERE ts > $1 AND ts < $2",
      [new Date(stopped.lastStampedAt ?? stopped.cutoff), new Date(resumedAt)],
    );
    expect(Number(late[0]!.count)).toBe(0);

    const stored = await storedPointCounts();
    for (const [key, count] of await expectedPointCounts()) {
      expect(stored.get(key), key).toBe(count);
    }

    const { rows: tokens } = await getPool().query<{ revoked_at: Date | null }>(
      "SELECT revoked_at FROM api_token WHERE name = $1 ORDER BY id",
      [DEMO_TOKEN_NAME],
    );
    expect(tokens).toHaveLength(2);
    for (const token of tokens) expect(token.revoked_at).not.toBeNull();

    const third = startDemoReplay({
      baseUrl: BASE_URL,
      dataDir,
      databaseUrl: process.env.DATABASE_URL!,
      speed: 60_000,
    });
    expect(await third.done).toBe("finished");
    const { rows: afterThird } = await getPool().query(
      "SELECT id FROM api_token WHERE name = $1",
      [DEMO_TOKEN_NAME],
    );
    expect(afterThird).toHaveLength(2);
  });
});
