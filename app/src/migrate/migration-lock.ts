import type pg from 'pg';
import type { DatabaseSettings } from '../config/database-settings.js';
import { connectClient } from '../db/pool.js';
import type { Logger } from '../logger.js';

/**
 * The advisory lock that serialises every schema change: the `migrate` job and `serve` with
 * DB_AUTO_MIGRATE=true. The same key in every SelfMX version, so old and new releases queue too.
 */
/** Shown in pg_stat_activity for the migrator's connection. */
export const MIGRATE_APPLICATION_NAME = 'selfmx-migrate';

export const MIGRATION_LOCK_KEY = '5163420961338411807';

/**
 * Runs `work` on a dedicated connection holding the migration lock. A second caller waits for the
 * first to finish (it then usually finds nothing to do). The lock is a session lock: it goes away
 * with the connection if this process dies. Under the lock, every table-lock wait is bounded by
 * DB_MIGRATION_LOCK_TIMEOUT: an ALTER TABLE queued behind a long transaction would otherwise make
 * every later query on that table queue behind it.
 */
export async function withMigrationLock<T>(
  settings: DatabaseSettings,
  logger: Logger,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  // A connection lost while idle is reported by the next query.
  const client = await connectClient(settings, MIGRATE_APPLICATION_NAME, (error) =>
    logger.warn({ err: error.message }, 'migration connection lost'),
  );
  try {
    await acquire(client, logger);
    try {
      // Set only now: waiting for another migrator's advisory lock is expected and unbounded.
      await client.query("SELECT set_config('lock_timeout', $1, false)", [
        `${settings.migrationLockTimeoutSeconds}s`,
      ]);
      return await work(client);
    } finally {
      // If the connection is gone, so is the lock; keep the original error, not this one.
      await client
        .query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY])
        .catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}

async function acquire(client: pg.Client, logger: Logger): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock($1::bigint) AS locked',
    [MIGRATION_LOCK_KEY],
  );
  if (rows[0]?.locked) return;
  const holder = await describeHolder(client);
  logger.info(`another migration is running${holder}; waiting for it to finish`);
  // Polled, never waited for in one statement: a waiting statement is an open transaction,
  // which a no-transaction migration's CREATE INDEX CONCURRENTLY (holding the lock) would wait
  // for in turn, a deadlock.
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    const retry = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1::bigint) AS locked',
      [MIGRATION_LOCK_KEY],
    );
    if (retry.rows[0]?.locked) break;
  }
  logger.info('migration lock acquired');
}

const LOCK_POLL_MS = 250;

/** Who holds the lock (pid, application, address), so an operator can find a stuck job. */
async function describeHolder(client: pg.Client): Promise<string> {
  // A bigint advisory key appears in pg_locks as classid (high 32 bits) and objid (low 32 bits).
  const { rows } = await client.query<{
    pid: number;
    application_name: string;
    client_addr: string | null;
  }>(
    `SELECT a.pid, a.application_name, a.client_addr::text AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid`,
    [MIGRATION_LOCK_KEY],
  );
  const holder = rows[0];
  if (!holder) return '';
  const from = holder.client_addr ? ` from ${holder.client_addr}` : '';
  return ` (pid ${holder.pid}, ${holder.application_name || 'unnamed client'}${from})`;
}
