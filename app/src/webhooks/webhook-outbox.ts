import type pg from 'pg';
import { recordAudit } from '../audit/audit-log.js';

/**
 * The SQL of the webhook outbox (webhook_events, filled by a trigger on email_events; see the
 * migration). A claim sets status 'attempting' and moves next_attempt_at to the claim's expiry,
 * so an event whose worker died is due again once that passes (at-least-once). An outcome is
 * recorded only while `attempts` still equals the claimed attempt: a replay or a reclaim in
 * between wins.
 */

type Queryable = Pick<pg.Pool, 'query'>;

export interface ClaimedWebhookEvent {
  id: string;
  tenant_id: string;
  webhook_id: string;
  payload: Record<string, unknown>;
  attempts: number;
  url: string;
  secret: string;
  created_at: Date;
}

/**
 * Claims up to `limit` due events of enabled endpoints, at most `perEndpoint` in flight per
 * endpoint (counting unexpired claims of every process), oldest due first.
 */
export async function claimWebhookEvents(
  db: Queryable,
  limit: number,
  perEndpoint: number,
  claimSeconds: number,
): Promise<ClaimedWebhookEvent[]> {
  const { rows } = await db.query<ClaimedWebhookEvent>(
    `WITH candidates AS (
       SELECT picked.id, picked.next_attempt_at FROM webhooks w
        CROSS JOIN LATERAL (
          SELECT count(*) AS in_flight FROM webhook_events b
           WHERE b.webhook_id = w.id AND b.status = 'attempting' AND b.next_attempt_at > now()
        ) busy
        CROSS JOIN LATERAL (
          SELECT ev.id, ev.next_attempt_at FROM webhook_events ev
           WHERE ev.webhook_id = w.id AND ev.status IN ('pending', 'attempting')
             AND ev.next_attempt_at <= now()
           ORDER BY ev.next_attempt_at
           LIMIT greatest($2 - busy.in_flight, 0)
        ) picked
        WHERE w.enabled
        ORDER BY picked.next_attempt_at
        LIMIT $1
     ), locked AS (
       SELECT ev.id FROM webhook_events ev JOIN candidates USING (id)
        WHERE ev.status IN ('pending', 'attempting') AND ev.next_attempt_at <= now()
        FOR UPDATE OF ev SKIP LOCKED
     )
     UPDATE webhook_events ev
        SET status = 'attempting', attempts = ev.attempts + 1,
            next_attempt_at = now() + make_interval(secs => $3::double precision)
       FROM locked, webhooks w
      WHERE ev.id = locked.id AND w.id = ev.webhook_id
     RETURNING ev.id, ev.tenant_id, ev.webhook_id, ev.payload, ev.attempts, ev.created_at,
               w.url, w.secret`,
    [limit, perEndpoint, claimSeconds],
  );
  return rows;
}

export interface AttemptResult {
  /** undefined: no answer (refused address, connection error, timeout). */
  httpStatus: number | undefined;
  response: string;
  ok: boolean;
}

export interface RecordedAttempt {
  /** False when the claim was lost (replayed or reclaimed meanwhile); nothing was changed. */
  recorded: boolean;
  /** The endpoint was disabled by this failure (WEBHOOK_DISABLE_AFTER). */
  disabled: boolean;
}

/**
 * Records one attempt: its row, the event's next state (success; pending again after
 * `retryInSeconds`; failed when undefined) and the endpoint's failing streak, which disables
 * it once it has lasted `disableAfterSeconds`. One transaction.
 */
export async function recordWebhookAttempt(
  pool: pg.Pool,
  event: Pick<ClaimedWebhookEvent, 'id' | 'tenant_id' | 'webhook_id' | 'attempts'>,
  result: AttemptResult,
  retryInSeconds: number | undefined,
  disableAfterSeconds: number,
): Promise<RecordedAttempt> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The webhook row first, as DELETE of a webhook locks it before its events: the same order
    // in both, so a delete during an attempt waits instead of deadlocking.
    await client.query('SELECT 1 FROM webhooks WHERE id = $1 FOR NO KEY UPDATE', [
      event.webhook_id,
    ]);
    const moved = await client.query(
      `UPDATE webhook_events
          SET status = CASE WHEN $3 THEN 'success' WHEN $4::double precision IS NULL THEN 'failed'
                            ELSE 'pending' END,
              next_attempt_at = now() + make_interval(secs => coalesce($4::double precision, 0))
        WHERE id = $1 AND attempts = $2 AND status = 'attempting'`,
      [event.id, event.attempts, result.ok, retryInSeconds ?? null],
    );
    if ((moved.rowCount ?? 0) === 0) {
      await client.query('ROLLBACK');
      return { recorded: false, disabled: false };
    }
    await client.query(
      `INSERT INTO webhook_attempts (webhook_event_id, http_status, response) VALUES ($1, $2, $3)`,
      [event.id, result.httpStatus ?? null, result.response],
    );
    const disabled = await updateFailingStreak(
      client,
      event.webhook_id,
      result.ok,
      disableAfterSeconds,
    );
    if (disabled) {
      await recordAudit(client, {
        tenantId: event.tenant_id,
        actorKeyId: null,
        action: 'webhook.disabled',
        targetType: 'webhook',
        targetId: event.webhook_id,
        requestId: 'webhook-worker',
        detail: { reason: 'every attempt failed', disable_after_seconds: disableAfterSeconds },
      });
    }
    await client.query('COMMIT');
    return { recorded: true, disabled };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A success ends the endpoint's failing streak; a failure starts it or may end the endpoint. */
async function updateFailingStreak(
  client: pg.PoolClient,
  webhookId: string,
  ok: boolean,
  disableAfterSeconds: number,
): Promise<boolean> {
  if (ok) {
    await client.query('UPDATE webhooks SET failing_since = NULL WHERE id = $1', [webhookId]);
    return false;
  }
  await client.query(
    'UPDATE webhooks SET failing_since = coalesce(failing_since, now()) WHERE id = $1',
    [webhookId],
  );
  const { rowCount } = await client.query(
    `UPDATE webhooks
        SET enabled = false, updated_at = now(),
            disabled_reason = 'every attempt failed since ' || failing_since
      WHERE id = $1 AND enabled
        AND failing_since <= now() - make_interval(secs => $2::double precision)`,
    [webhookId, disableAfterSeconds],
  );
  return (rowCount ?? 0) > 0;
}

export async function countWebhookBacklog(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) AS count FROM webhook_events WHERE status IN ('pending', 'attempting')`,
  );
  return Number(rows[0]?.count ?? 0);
}
