import type pg from 'pg';
import type { DatabaseSettings } from '../config/database-settings.js';

/**
 * Keepalive probes start after this much silence, so that a connection whose peer host vanished
 * (a failed-over primary) is noticed even while idle; the probe interval and count are the
 * kernel's. Keepalive cannot notice a path that still ACKs (a proxy or NAT holding the socket
 * open): statement limits below cover that case.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/**
 * How long after statement_timeout the client stops waiting for any answer. The server's cancel
 * normally arrives first (error 57014, connection reusable); only a connection that can no longer
 * deliver anything (black-holed by a failover: no reset, no answer) reaches this limit, and is
 * then closed, freeing its pool slot.
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 5_000;

/** What an operator does about a migration's lock wait that timed out. */
export const LOCK_WAIT_FIX =
  'Find the session holding it (SELECT pid, state, xact_start, query FROM pg_stat_activity WHERE xact_start IS NOT NULL ORDER BY xact_start), let it finish or end it (SELECT pg_terminate_backend(pid)), then run migrate again; raise DB_MIGRATION_LOCK_TIMEOUT only if that wait is acceptable for the traffic queued behind the migration.';

/**
 * The time limits of the app's own sessions (the pool, and the queue listener that copies the
 * pool's options). pg sends statement_timeout and idle_in_transaction_session_timeout as start-up
 * parameters; query_timeout is the client's own limit. The migrator has neither (a migration may
 * run long) but bounds its lock waits instead (see migration-lock.ts).
 */
export function appSessionLimits(settings: DatabaseSettings): pg.ClientConfig {
  const statementTimeoutMs = settings.statementTimeoutSeconds * 1000;
  return {
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutSeconds * 1000,
    // A server-side cancel cannot come back through a black hole: the client's own limit can.
    query_timeout: statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
  };
}
