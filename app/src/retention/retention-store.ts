import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';

/**
 * The SQL of retention: each call is one short transaction over at most `limit` rows, taken
 * with FOR UPDATE SKIP LOCKED (a row a worker holds is left for the next round) and located
 * by ctid, so it locks exactly the rows it changes and nothing waits for it. Every call first
 * tries a transaction-level advisory lock: when another instance's purger holds it, the call
 * does nothing and answers null, so one purger works at a time across instances.
 */

/** Everything that purges holds this lock for the length of one batch. */
const PURGER_LOCK = `pg_try_advisory_xact_lock(hashtext('selfmx:retention-purger'))`;
/** A batch waits at most this long for a table lock (a migration's DDL), then gives up. */
const BATCH_LOCK_TIMEOUT = '2s';

/** Rows changed, or null when another purger held the lock. */
type BatchResult = number | null;

async function purgeBatch(pool: pg.Pool, sql: string, values: unknown[]): Promise<BatchResult> {
  return inTransaction(pool, async (client) => {
    await client.query(`SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT}'`);
    const { rows } = await client.query<{ locked: boolean }>(`SELECT ${PURGER_LOCK} AS locked`);
    if (!rows[0]?.locked) return null;
    const result = await client.query(sql, values);
    return result.rowCount ?? 0;
  });
}

/**
 * Empties the content (bodies, attachments, template data) of up to `limit` emails created more
 * than `days` days ago and no longer in the queue (an email still to send, scheduled included, keeps what it sends),
 * and marks them purged.
 */
export function purgeEmailContent(
  pool: pg.Pool,
  days: number,
  limit: number,
): Promise<BatchResult> {
  return purgeBatch(
    pool,
    `UPDATE emails
        SET html = NULL, text = NULL, attachments = '[]', template_data = NULL, purged_at = now()
      WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM emails
         WHERE purged_at IS NULL AND created_at < now() - make_interval(days => $1)
           AND status NOT IN ('scheduled', 'queued', 'sending')
         ORDER BY created_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED))`,
    [days, limit],
  );
}

/**
 * Deletes up to `limit` purged emails created more than `days` days ago, with their events
 * (and whatever else references an email with ON DELETE CASCADE).
 */
export function deleteExpiredEmails(
  pool: pg.Pool,
  days: number,
  limit: number,
): Promise<BatchResult> {
  return purgeBatch(
    pool,
    `DELETE FROM emails
      WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM emails
         WHERE purged_at IS NOT NULL AND created_at < now() - make_interval(days => $1)
         ORDER BY created_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED))`,
    [days, limit],
  );
}

/**
 * Deletes up to `limit` audit entries older than `days` days. Ids grow with time, so the oldest
 * entries are the first ids: reading the `limit` first ids and deleting the old ones among them
 * needs no index on created_at, and stops at once when the oldest entry is young enough.
 */
export function deleteExpiredAudit(
  pool: pg.Pool,
  days: number,
  limit: number,
): Promise<BatchResult> {
  return purgeBatch(
    pool,
    `DELETE FROM audit_logs
      WHERE id = ANY (ARRAY(
        SELECT id FROM (SELECT id, created_at FROM audit_logs ORDER BY id LIMIT $2) AS oldest
         WHERE created_at < now() - make_interval(days => $1)))`,
    [days, limit],
  );
}
