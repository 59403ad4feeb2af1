import type pg from 'pg';

/**
 * The SQL of the webhook outbox (webhook_events, filled by a trigger on email_events; see the
 * migration). A claim takes a run of due events of one endpoint under one claim token: it sets
 * status 'attempting', counts the attempt and moves next_attempt_at to the claim's expiry, so an
 * event whose worker died is due again once that passes (at-least-once). An outcome is recorded
 * only while the event still carries its claim's token and attempt: a replay or a reclaim in
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
  /** Shared by the events of one run, which are sent one after another. */
  claim_token: string;
}

export interface WebhookClaim {
  /** Runs to claim at most: requests that may be put in flight. */
  readonly runs: number;
  /** Runs in flight per endpoint at most, counted over every process (WEBHOOK_ENDPOINT_CONCURRENCY). */
  readonly perEndpoint: number;
  /** Events in one run of an endpoint whose last attempt succeeded; a failing one gets runs of 1. */
  readonly runLength: number;
  readonly claimSeconds: number;
  /** This process's claimed events whose request has ended and whose outcome is being recorded. */
  readonly finished?: readonly string[];
}

/**
 * Claims up to `runs` runs of due events of enabled endpoints, oldest due first. A run is up to
 * `runLength` events of one endpoint under one fresh claim token. An endpoint gets no more runs
 * than `perEndpoint` minus the claim tokens it has in flight (unexpired claims of every process,
 * an event of `finished` not counting), so however long the runs, no more than `perEndpoint`
 * requests reach it at once. Delivery order is not promised (as with Resend).
 */
export async function claimWebhookEvents(
  db: Queryable,
  claim: WebhookClaim,
): Promise<ClaimedWebhookEvent[][]> {
  const { rows } = await db.query<ClaimedWebhookEvent>({
    name: 'webhook-claim-runs',
    text: `WITH candidates AS MATERIALIZED (
       SELECT picked.id, picked.next_attempt_at, w.id AS webhook_id,
              (picked.position - 1) / run.length AS run
         FROM webhooks w
        CROSS JOIN LATERAL (
          SELECT CASE WHEN w.failing_since IS NULL THEN $3::int ELSE 1 END AS length
        ) run
        CROSS JOIN LATERAL (
          SELECT count(DISTINCT coalesce(b.claim_token, b.id)) AS in_flight
            FROM webhook_events b
           WHERE b.webhook_id = w.id AND b.status = 'attempting' AND b.next_attempt_at > now()
             AND b.id <> ALL ($5::uuid[])
        ) busy
        CROSS JOIN LATERAL (
          SELECT ev.id, ev.next_attempt_at,
                 row_number() OVER (ORDER BY ev.next_attempt_at) AS position
            FROM webhook_events ev
           WHERE ev.webhook_id = w.id AND ev.status IN ('pending', 'attempting')
             AND ev.next_attempt_at <= now()
           ORDER BY ev.next_attempt_at
           LIMIT greatest($2 - busy.in_flight, 0) * run.length
        ) picked
        WHERE w.enabled
     ), runs AS MATERIALIZED (
       SELECT webhook_id, run, gen_random_uuid() AS token FROM candidates
        GROUP BY webhook_id, run
        ORDER BY min(next_attempt_at)
        LIMIT $1
     ), locked AS (
       SELECT ev.id, runs.token FROM webhook_events ev
         JOIN candidates c USING (id)
         JOIN runs ON runs.webhook_id = c.webhook_id AND runs.run = c.run
        WHERE ev.status IN ('pending', 'attempting') AND ev.next_attempt_at <= now()
        FOR UPDATE OF ev SKIP LOCKED
     )
     UPDATE webhook_events ev
        SET status = 'attempting', attempts = ev.attempts + 1, claim_token = locked.token,
            next_attempt_at = now() + make_interval(secs => $4::double precision)
       FROM locked, webhooks w
      WHERE ev.id = locked.id AND w.id = ev.webhook_id
     RETURNING ev.id, ev.tenant_id, ev.webhook_id, ev.payload, ev.attempts, ev.created_at,
               ev.claim_token, w.url, w.secret`,
    values: [
      claim.runs,
      claim.perEndpoint,
      claim.runLength,
      claim.claimSeconds,
      claim.finished ?? [],
    ],
  });
  return groupedByRun(rows);
}

/** The rows of each run together (a run's token), in the order RETURNING gave them. */
function groupedByRun(rows: ClaimedWebhookEvent[]): ClaimedWebhookEvent[][] {
  const runs = new Map<string, ClaimedWebhookEvent[]>();
  for (const row of rows) {
    const run = runs.get(row.claim_token);
    if (run) run.push(row);
    else runs.set(row.claim_token, [row]);
  }
  return [...runs.values()];
}

/**
 * Gives back claimed events that were never sent (their run stopped: the process is stopping,
 * or the claim would expire before another request could end): due again at once, the claim's
 * attempt not counted. Events another claim or a replay took meanwhile are left alone.
 */
export async function releaseWebhookEvents(
  db: Queryable,
  events: readonly Pick<ClaimedWebhookEvent, 'id' | 'claim_token'>[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `UPDATE webhook_events ev
        SET status = 'pending', attempts = ev.attempts - 1, next_attempt_at = now(),
            claim_token = NULL
       FROM unnest($1::uuid[], $2::uuid[]) AS released (id, claim_token)
      WHERE ev.id = released.id AND ev.claim_token = released.claim_token
        AND ev.status = 'attempting'`,
    [events.map((event) => event.id), events.map((event) => event.claim_token)],
  );
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
  readonly event: Pick<
    ClaimedWebhookEvent,
    'id' | 'tenant_id' | 'webhook_id' | 'attempts' | 'claim_token'
  >;
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
                            $5::double precision[], $6::int[], $7::text[], $8::double precision[],
                            $9::uuid[])
         WITH ORDINALITY
         AS i (event_id, webhook_id, attempts, ok, retry_in, http_status, response,
               disable_after, claim_token, position)
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
              next_attempt_at = now() + make_interval(secs => coalesce(i.retry_in, 0)),
              claim_token = NULL
         FROM input i
        WHERE ev.id = i.event_id AND ev.attempts = i.attempts AND ev.status = 'attempting'
          AND ev.claim_token = i.claim_token
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
      outcomes.map((o) => o.event.claim_token),
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
