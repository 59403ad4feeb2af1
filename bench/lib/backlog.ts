import type pg from 'pg';
import { NOTIFY_EMAIL_QUEUED } from '../../app/src/queue/queue-listener.js';

const TEMPLATE_TABLE = 'bench_email_template';

/**
 * Columns that make each backlog row its own fresh, due, never-tried email; every other column
 * is copied from a row the API itself wrote, so the backlog has exactly the API's shape.
 */
const FRESH_VALUES: Record<string, string> = {
  id: 'gen_random_uuid()',
  status: `'queued'`,
  to_addresses: `ARRAY['customer-' || i || '@example.test']`,
  idempotency_key: 'NULL',
  request_hash: 'NULL',
  attempts: '0',
  relay_deferrals: '0',
  attempting_since: 'NULL',
  delayed_event_at: 'NULL',
  next_attempt_at: 'now()',
  lease_expires_at: 'NULL',
  leased_by: 'NULL',
  last_error: 'NULL',
  // Strictly increasing, so FIFO order is the insertion order.
  created_at: `now() + i * interval '1 microsecond'`,
  updated_at: 'now()',
  sent_at: 'NULL',
};

/** Keeps a copy of the email `emailId` (accepted by POST /v1/emails) as the backlog's model. */
export async function keepBacklogTemplate(pool: pg.Pool, emailId: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${TEMPLATE_TABLE}`);
  await pool.query(`CREATE TABLE ${TEMPLATE_TABLE} AS SELECT * FROM emails WHERE id = $1`, [
    emailId,
  ]);
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${TEMPLATE_TABLE}`);
  if (rows[0]?.n !== 1) throw new Error(`email ${emailId} is not in the emails table`);
}

/**
 * Empties the queue (and the events that hang off it) between runs. A worker still recording
 * the last outcomes of a run can deadlock with TRUNCATE's locks; PostgreSQL then cancels one
 * side, and TRUNCATE simply tries again.
 */
export async function clearEmails(pool: pg.Pool): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // CASCADE: the tables that hang off emails (recipient outcomes) go with it.
      await pool.query('TRUNCATE email_events, emails CASCADE');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
    }
  }
}

/**
 * Inserts `count` due emails in one INSERT ... SELECT generate_series, commits, then wakes the
 * workers the way the API does. Returns performance.now() at the commit.
 */
export async function insertBacklog(pool: pg.Pool, count: number): Promise<number> {
  const { columns, values } = await backlogColumns(pool, FRESH_VALUES);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // An autovacuum ANALYZE during one big INSERT records "0 live rows" and the claim is then
    // planned as a full index scan: keep autovacuum off the table and analyze in the same commit.
    await client.query('LOCK TABLE emails IN SHARE UPDATE EXCLUSIVE MODE');
    await client.query(
      `INSERT INTO emails (${columns.join(', ')})
       SELECT ${values.join(', ')} FROM ${TEMPLATE_TABLE} t, generate_series(1, $1::int) AS i`,
      [count],
    );
    await client.query('ANALYZE emails');
    await client.query('COMMIT');
    const committedAt = performance.now();
    await client.query(NOTIFY_EMAIL_QUEUED);
    return committedAt;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Columns that make each row an email scheduled for later: it waits in status 'scheduled' until
 * `scheduled_at`, a day from now (each a microsecond apart, as the API would spread them).
 */
const SCHEDULED_LATER_VALUES: Record<string, string> = {
  ...FRESH_VALUES,
  status: `'scheduled'`,
  scheduled_at: `now() + interval '1 day' + i * interval '1 microsecond'`,
  next_attempt_at: `now() + interval '1 day' + i * interval '1 microsecond'`,
};

/**
 * Inserts `count` emails scheduled for a day from now in one INSERT ... SELECT generate_series
 * (no worker may send them during a run), and analyzes the table as insertBacklog does.
 */
export async function insertScheduledLater(pool: pg.Pool, count: number): Promise<void> {
  const { columns, values } = await backlogColumns(pool, SCHEDULED_LATER_VALUES);
  await pool.query(
    `INSERT INTO emails (${columns.join(', ')})
     SELECT ${values.join(', ')} FROM ${TEMPLATE_TABLE} t, generate_series(1, $1::int) AS i`,
    [count],
  );
  await pool.query('ANALYZE emails');
}

/** The emails table's writable columns, and for each the SQL of its value in a backlog row. */
async function backlogColumns(
  pool: pg.Pool,
  fresh: Record<string, string>,
): Promise<{ columns: string[]; values: string[] }> {
  const { rows } = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'emails'
       AND is_generated = 'NEVER'
     ORDER BY ordinal_position`,
  );
  const columns = rows.map((row) => row.column_name);
  return { columns, values: columns.map((column) => fresh[column] ?? `t.${column}`) };
}
