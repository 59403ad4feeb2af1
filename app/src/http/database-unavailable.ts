import { BatchWaitTimeout } from '../db/statement-batcher.js';

/**
 * True when an error means PostgreSQL cannot be reached or is going away (not a bad query):
 * such errors are answered with 503 so clients retry, instead of a 500 that reads as a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof BatchWaitTimeout) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Socket errors, and SQLSTATE class 08 (connection) and 57P0x (server shutting down).
    if (
      ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE'].includes(
        code,
      )
    )
      return true;
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
    // A new connection refused its password: the app role's was rotated under this process.
    if (code === '28P01') return true;
  }
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

/** True when the error is a wait past DB_POOL_TIMEOUT: for a pool connection, or for a batch. */
export function isPoolTimeout(error: Error): boolean {
  // pg-pool's own wording for "no connection within connectionTimeoutMillis".
  return (
    error instanceof BatchWaitTimeout ||
    /timeout exceeded when trying to connect/i.test(error.message)
  );
}
