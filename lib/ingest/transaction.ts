import type pg from "pg";

import { logger } from "@/lib/logger";

/**
 * Runs fn in a transaction on a client from the pool, committing when it
 * returns and rolling back when it throws. A client whose ROLLBACK fails is
 * discarded instead of returned to the pool.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      broken = true;
      logger.warn(
        { err: rollbackError },
        "ROLLBACK failed; discarding the database connection",
      );
    }
    throw error;
  } finally {
    client.release(broken);
  }
}
