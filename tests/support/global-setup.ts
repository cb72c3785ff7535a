import type { TestProject } from "vitest/node";

import { createTestDatabase, type TestDatabase } from "./database";

// Vitest global setup: one fresh database for the whole unit and integration
// run, handed to the test files through DATABASE_URL.
let database: TestDatabase | undefined;

export async function setup(_project: TestProject) {
  database = await createTestDatabase("vitest");
  process.env.DATABASE_URL = database.url;
}

export async function teardown() {
  await database?.drop();
}
