import type pg from 'pg';

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
 * endpoint (counting unexpired claims of every process, but not `finished`: this process's
 * events whose request has ended and whose outcome is being recorded), oldest due first.
 */
export async function claimWebhookEvents(
  db: Queryable,
  limit: number,
  perEndpoint: number,
  claimSeconds: number,
  finished: readonly string[] = [],
): Promise<ClaimedWebhookEvent[]> {
  const { rows } = await db.query<ClaimedWebhookEvent>({
    name: 'webhook-claim',
    text: `WITH candidates AS (
       SELECT picked.id, picked.next_attempt_at FROM webhooks w
        CROSS JOIN LATERAL (
          SELECT count(*) AS in_flight FROM webhook_events b
           WHERE b.webhook_id = w.id AND b.status = 'attempting' AND b.next_attempt_at > now()
             AND b.id <> ALL ($4::uuid[])
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
    values: [limit, perEndpoint, claimSeconds, finished],
  });
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

/** One attempt to record: the claimed event, what the endpoint answered, what comes next. */
export interface AttemptOutcome {
  readonly event: Pick<ClaimedWebhookEvent, 'id' | 'tenant_id' | 'webhook_id' | 'attempts'>;
  readonly result: AttemptResult;
  /** Seconds until the next attempt after a failure; undefined: the event failed for good. */
  readonly retryInSeconds: number | undefined;
  /** WEBHOOK_DISABLE_AFTER: how long a failing streak lasts before the endpoint is disabled. */
  readonly disableAfterSeconds: number;
}

/**
 * Records attempts, ONE statement for all of them (the caller group-commits concurrent ones):
 * each attempt's row, its event's next state (success; pending again after `retryInSeconds`;
 * failed when undefined) and each endpoint's failing streak, which disables the endpoint once it
 * has lasted `disableAfterSeconds`. Results are in the order of `outcomes`.
 *
 * Only an endpoint whose streak changes is locked and written: one with a failure among the
 * outcomes, or one that was failing. It is locked before its events, as a DELETE of the
 * endpoint locks it before cascading to them, so a delete during an attempt waits instead of
 * deadlocking; endpoints are locked in id order so that two statements never deadlock either.
 * A success on a healthy endpoint touches only its event. Within one statement the last outcome
 * of an endpoint decides its streak: a success ends it, a failure after a success starts a new one.
 */
export async function recordWebhookAttempts(
  db: Queryable,
  outcomes: readonly AttemptOutcome[],
): Promise<RecordedAttempt[]> {
  const { rows } = await db.query<{ position: string; recorded: boolean; disabled: boolean }>({
    name: 'webhook-record-attempts',
    text: `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::boolean[],
                            $5::double precision[], $6::int[], $7::text[], $8::double precision[])
         WITH ORDINALITY
         AS i (event_id, webhook_id, attempts, ok, retry_in, http_status, response,
               disable_after, position)
     ), hooks AS MATERIALIZED (
       SELECT w.id, w.tenant_id, w.enabled, w.failing_since FROM webhooks w
        WHERE w.id IN (SELECT webhook_id FROM input)
          AND (w.failing_since IS NOT NULL
               OR w.id IN (SELECT webhook_id FROM input WHERE NOT ok))
        ORDER BY w.id
        FOR NO KEY UPDATE
     ), moved AS (
       UPDATE webhook_events ev
          SET status = CASE WHEN i.ok THEN 'success' WHEN i.retry_in IS NULL THEN 'failed'
                            ELSE 'pending' END,
              next_attempt_at = now() + make_interval(secs => coalesce(i.retry_in, 0))
         FROM input i
        WHERE ev.id = i.event_id AND ev.attempts = i.attempts AND ev.status = 'attempting'
          AND (SELECT count(*) FROM hooks) >= 0
       RETURNING ev.id, ev.webhook_id, i.position, i.ok, i.http_status, i.response,
                 i.disable_after
     ), attempts AS (
       INSERT INTO webhook_attempts (webhook_event_id, http_status, response)
       SELECT id, http_status, response FROM moved ORDER BY position
     ), by_hook AS (
       SELECT webhook_id, bool_or(ok) AS any_success, max(position) AS last_position,
              (array_agg(ok ORDER BY position DESC))[1] AS last_ok,
              (array_agg(disable_after ORDER BY position DESC))[1] AS disable_after
         FROM moved GROUP BY webhook_id
     ), next_streak AS (
       SELECT h.id, h.tenant_id, streak.since, b.last_position, b.disable_after,
              coalesce(h.enabled AND streak.since
                       <= now() - make_interval(secs => b.disable_after), false) AS disable,
              streak.since IS DISTINCT FROM h.failing_since AS changed
         FROM by_hook b JOIN hooks h ON h.id = b.webhook_id
        CROSS JOIN LATERAL (
          SELECT CASE WHEN b.last_ok THEN NULL WHEN b.any_success THEN now()
                      ELSE coalesce(h.failing_since, now()) END AS since
        ) streak
     ), streaks AS (
       UPDATE webhooks w
          SET failing_since = s.since,
              enabled = w.enabled AND NOT s.disable,
              disabled_reason = CASE WHEN s.disable THEN 'every attempt failed since ' || s.since
                                     ELSE w.disabled_reason END,
              updated_at = CASE WHEN s.disable THEN now() ELSE w.updated_at END
         FROM next_streak s
        WHERE w.id = s.id AND (s.changed OR s.disable)
       RETURNING w.id, w.tenant_id, s.disable, s.last_position, s.disable_after
     ), audited AS (
       INSERT INTO audit_logs (tenant_id, actor_key_id, action, target_type, target_id,
                               request_id, detail)
       SELECT tenant_id, NULL, 'webhook.disabled', 'webhook', id::text, 'webhook-worker',
              jsonb_build_object('reason', 'every attempt failed',
                                 'disable_after_seconds', disable_after)
         FROM streaks WHERE disable
     )
     SELECT i.position, m.id IS NOT NULL AS recorded, coalesce(s.disable, false) AS disabled
       FROM input i
       LEFT JOIN moved m ON m.position = i.position
       LEFT JOIN streaks s ON s.last_position = i.position
      ORDER BY i.position`,
    values: [
      outcomes.map((o) => o.event.id),
      outcomes.map((o) => o.event.webhook_id),
      outcomes.map((o) => o.event.attempts),
      outcomes.map((o) => o.result.ok),
      outcomes.map((o) => o.retryInSeconds ?? null),
      outcomes.map((o) => o.result.httpStatus ?? null),
      outcomes.map((o) => o.result.response),
      outcomes.map((o) => o.disableAfterSeconds),
    ],
  });
  return rows.map((row) => ({ recorded: row.recorded, disabled: row.disabled }));
}

/** Records one attempt on its own (see recordWebhookAttempts). */
export async function recordWebhookAttempt(
  db: Queryable,
  event: AttemptOutcome['event'],
  result: AttemptResult,
  retryInSeconds: number | undefined,
  disableAfterSeconds: number,
): Promise<RecordedAttempt> {
  const [recorded] = await recordWebhookAttempts(db, [
    { event, result, retryInSeconds, disableAfterSeconds },
  ]);
  if (!recorded) throw new Error('recordWebhookAttempts returned no result for one attempt');
  return recorded;
}

export async function countWebhookBacklog(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) AS count FROM webhook_events WHERE status IN ('pending', 'attempting')`,
  );
  return Number(rows[0]?.count ?? 0);
}
