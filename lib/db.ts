import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

import { PrismaClient } from "@/lib/generated/prisma/client";

// One pg pool and one Prisma client per process. The pool is shared so that
// raw SQL (bulk inserts, KPI queries) and Prisma use the same connections.
// In development Next.js reloads modules, so the instances live on globalThis.

type DbGlobals = { vigilPool?: pg.Pool; vigilPrisma?: PrismaClient };
const globals = globalThis as typeof globalThis & DbGlobals;

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set: start Vigil with `npm start`, which sets it for the embedded PostgreSQL, or set it to your server",
    );
  }
  return url;
}

export function getPool(): pg.Pool {
  globals.vigilPool ??= new pg.Pool({
    connectionString: databaseUrl(),
    max: Number(process.env.VIGIL_DB_POOL_SIZE ?? 10),
  });
  return globals.vigilPool;
}

export function getPrisma(): PrismaClient {
  globals.vigilPrisma ??= new PrismaClient({
    adapter: new PrismaPg(getPool()),
  });
  return globals.vigilPrisma;
}

/** Closes the Prisma client and the pool; used by tests and on shutdown. */
export async function closeDb(): Promise<void> {
  await globals.vigilPrisma?.$disconnect();
  await globals.vigilPool?.end();
  globals.vigilPrisma = undefined;
  globals.vigilPool = undefined;
}
