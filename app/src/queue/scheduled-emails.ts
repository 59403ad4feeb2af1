import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** Scheduled emails moved to the queue per call: the claims that follow take them in order. */
const PROMOTE_LIMIT = 1000;

/**
 * Moves scheduled emails whose time has come to 'queued' (with their `queued` event, which
 * emits email.sent), so that the claim reads one partial index of due emails only. It reads
 * the start of emails_scheduled_due_idx, so emails scheduled for later cost it nothing.
 */
export async function promoteDueScheduledEmails(db: Queryable): Promise<number> {
  const { rowCount } = await db.query({
    // Named: parsed and planned once per connection, not before every claim.
    name: 'selfmx_promote_scheduled',
    text: `WITH due AS (
       SELECT id FROM emails
        WHERE status = 'scheduled' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
     ), promoted AS (
       UPDATE emails e SET status = 'queued', updated_at = now()
         FROM due WHERE e.id = due.id
       RETURNING e.tenant_id, e.id, e.attempts
     )
     INSERT INTO email_events (tenant_id, email_id, type, attempt)
     SELECT tenant_id, id, 'queued', attempts FROM promoted`,
    values: [PROMOTE_LIMIT],
  });
  return rowCount ?? 0;
}
