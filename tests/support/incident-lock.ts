import pg from "pg";

/**
 * Holds a row lock on the incident while `start` begins its work, until
 * `waiters` transactions wait on the lock, then releases it. Actions started
 * meanwhile thus reach their UPDATE and race for real instead of depending
 * on scheduling.
 */
export async function withIncidentLocked<T>(
  databaseUrl: string,
  incidentId: number,
  waiters: number,
  start: () => Promise<T>,
): Promise<T> {
  const locker = new pg.Client({ connectionString: databaseUrl });
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("SELECT id FROM incident WHERE id = $1 FOR UPDATE", [
      incidentId,
    ]);
    const running = start();
    await waitForLockWaiters(locker, waiters);
    await locker.query("COMMIT");
    return await running;
  } finally {
    await locker.end();
  }
}

async function waitForLockWaiters(client: pg.Client, count: number) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    // Inside a transaction pg_stat_activity is a snapshot taken on first
    // read; clearing it makes each poll see current activity.
    await client.query("SELECT pg_stat_clear_snapshot()");
    const { rows } = await client.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((rows[0]?.waiting ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `timed out waiting for ${count} transactions to block on the row lock`,
  );
}
