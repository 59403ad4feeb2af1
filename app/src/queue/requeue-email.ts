import type pg from 'pg';

export type RequeueResult =
  | { readonly kind: 'requeued'; readonly previousAttempts: number }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'not_failed'; readonly status: string }
  | { readonly kind: 'purged' };

/**
 * Queues a `failed` email again (POST /v1/emails/{id}/retry), inside the caller's transaction:
 * a new round of attempts, with its own QUEUE_MAX_AGE and QUEUE_RETRY_ATTEMPTS, for the
 * recipients that failed; those already delivered or bounced are not sent again. Writes the
 * `requeued` event. The caller wakes the workers once it has committed.
 */
export async function requeueFailedEmail(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
  emailId: string,
): Promise<RequeueResult> {
  const { rows } = await db.query<{ status: string; attempts: number; purged: boolean }>(
    `SELECT status, attempts, purged_at IS NOT NULL AS purged FROM emails
      WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
    [tenantId, emailId],
  );
  const email = rows[0];
  if (!email) return { kind: 'not_found' };
  if (email.status !== 'failed') return { kind: 'not_failed', status: email.status };
  if (email.purged) return { kind: 'purged' };
  await db.query(
    `WITH requeued AS (
       UPDATE emails
          SET status = 'queued', next_attempt_at = now(), attempts = 0, relay_deferrals = 0,
              attempting_since = NULL, updated_at = now()
        WHERE tenant_id = $1 AND id = $2
       RETURNING tenant_id, id
     ), recipients AS (
       UPDATE email_recipients r SET status = 'deferred', updated_at = now()
         FROM requeued q WHERE r.email_id = q.id AND r.status = 'failed'
     )
     INSERT INTO email_events (tenant_id, email_id, type, attempt, detail)
     SELECT tenant_id, id, 'requeued', 0, $3 FROM requeued`,
    [tenantId, emailId, `queued again by hand after ${email.attempts} attempts`],
  );
  return { kind: 'requeued', previousAttempts: email.attempts };
}
