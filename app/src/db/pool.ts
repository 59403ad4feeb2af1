import pg from 'pg';
import type { DatabaseSettings } from '../config/database-settings.js';
import type { Logger } from '../logger.js';
import { explainDatabaseError } from './explain-error.js';
import { appSessionLimits, KEEPALIVE_INITIAL_DELAY_MS } from './session-limits.js';
import { sslClientConfig } from './ssl.js';

/** Shown in pg_stat_activity.application_name, so operators can tell SelfMX's connections apart. */
export const APPLICATION_NAME = 'selfmx';

/**
 * The explicit connection config for one client (the pool's and the migrator's). Never a
 * connectionString: pg would re-read sslmode from it and replace our `ssl` (see ssl.ts).
 */
export function clientConfig(settings: DatabaseSettings): pg.ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: settings.poolTimeoutSeconds * 1000,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    ...sslClientConfig(settings),
  };
}

/**
 * A connected dedicated client (the migrator's lock connection, the queue's LISTEN connection).
 * A failed connect ends the client: pg leaves the socket open after some authentication
 * failures, which would keep the process alive.
 */
export async function connectClient(
  settings: DatabaseSettings,
  applicationName: string,
  onError: (error: Error) => void,
): Promise<pg.Client> {
  const client = new pg.Client({ ...clientConfig(settings), application_name: applicationName });
  // A connection lost while idle would otherwise crash the process.
  client.on('error', onError);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * A pool of at most poolSize connections. A caller waits at most poolTimeout for one (pg-pool
 * then fails with "timeout exceeded when trying to connect"), and connections idle for
 * idleTimeout are closed. Logs one start-up line with the redacted URL and effective settings.
 */
export function createPool(settings: DatabaseSettings, logger?: Logger): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(settings),
    ...appSessionLimits(settings),
    max: settings.poolSize,
    idleTimeoutMillis: settings.idleTimeoutSeconds * 1000,
  });
  // pg-pool drops its own error listener while a client is checked out (a transaction): if the
  // server goes away between two of its queries, the client's 'error' event would crash the
  // process. With this listener the transaction's next query fails instead
  // (test/drills/postgres-outage.test.ts).
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  // A connection that fails while idle (server restart, network cut) is dropped by the pool;
  // without a listener the 'error' event would crash the process.
  pool.on('error', (error) => {
    logger?.warn(
      { event: 'database_idle_connection_error' },
      `idle database connection closed: ${explainDatabaseError(error, settings)}`,
    );
  });
  logger?.info(
    {
      event: 'database_pool',
      database: {
        url: settings.redactedUrl,
        sslmode: settings.sslmode,
        poolSize: settings.poolSize,
        poolTimeoutSeconds: settings.poolTimeoutSeconds,
        idleTimeoutSeconds: settings.idleTimeoutSeconds,
        statementTimeoutSeconds: settings.statementTimeoutSeconds,
        idleInTransactionTimeoutSeconds: settings.idleInTransactionTimeoutSeconds,
      },
    },
    `database pool: ${settings.redactedUrl} (sslmode=${settings.sslmode}, pool_size=${settings.poolSize}, pool_timeout=${settings.poolTimeoutSeconds}s, idle_timeout=${settings.idleTimeoutSeconds}s, statement_timeout=${settings.statementTimeoutSeconds}s, idle_in_transaction_timeout=${settings.idleInTransactionTimeoutSeconds}s)`,
  );
  return pool;
}
