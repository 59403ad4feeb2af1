import type pg from 'pg';

/**
 * Rescheduling and canceling an email that no worker holds yet: one that is scheduled, or
 * queued and not yet claimed. Each change writes its event in the same statement. A worker's
 * claim locks the row, so a change either happens before the claim or finds the email
 * 'sending' and refuses.
 */

type Queryable = Pick<pg.Pool, 'query'>;

/** The statuses an email can still be rescheduled or canceled from. */
const CHANGEABLE = ['scheduled', 'queued'];

export type ScheduleChange =
  | { kind: 'changed'; id: string }
  | { kind: 'not_found' }
  | { kind: 'too_late'; status: string };

/** Moves the email to `at`; it waits in status 'scheduled' until then. */
export function rescheduleEmail(
  db: Queryable,
  tenantId: string,
  id: string,
  at: Date,
): Promise<ScheduleChange> {
  return change(
    db,
    tenantId,
    id,
    `status = 'scheduled', scheduled_at = $4, next_attempt_at = $4`,
    'scheduled',
    [at],
  );
}

/** Cancels the email: it is never sent. */
export function cancelEmail(db: Queryable, tenantId: string, id: string): Promise<ScheduleChange> {
  return change(db, tenantId, id, `status = 'canceled'`, 'canceled', []);
}

async function change(
  db: Queryable,
  tenantId: string,
  id: string,
  assignments: string,
  eventType: 'scheduled' | 'canceled',
  values: unknown[],
): Promise<ScheduleChange> {
  const { rows } = await db.query<{ id: string }>(
    `WITH changed AS (
       UPDATE emails SET ${assignments}, updated_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = ANY ($3::text[])
       RETURNING tenant_id, id, attempts
     ), logged AS (
       INSERT INTO email_events (tenant_id, email_id, type, attempt)
       SELECT tenant_id, id, '${eventType}', attempts FROM changed
     )
     SELECT id FROM changed`,
    [tenantId, id, CHANGEABLE, ...values],
  );
  if (rows[0]) return { kind: 'changed', id: rows[0].id };
  const current = await db.query<{ status: string }>(
    'SELECT status FROM emails WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  const status = current.rows[0]?.status;
  return status === undefined ? { kind: 'not_found' } : { kind: 'too_late', status };
}
