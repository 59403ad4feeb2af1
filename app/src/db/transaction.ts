import type pg from 'pg';
import { isConnectionLost } from './connection-lost.js';

/**
 * Runs `work` in one transaction on one pooled connection; rolls back when it throws. A
 * connection that failed or whose ROLLBACK failed is closed rather than handed back to the pool:
 * its next user would wait behind a statement that never ends.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken = await rollBack(client, error);
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Undefined when the connection is still usable; otherwise the error to close it with. */
async function rollBack(client: pg.PoolClient, failure: unknown): Promise<Error | undefined> {
  // The server rolls back a transaction whose connection closes; idle_in_transaction_session_timeout
  // ends it when the close never arrives.
  if (isConnectionLost(failure)) return failure as Error;
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
