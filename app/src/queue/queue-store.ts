import type pg from 'pg';
import { QUEUED_EMAIL_COLUMNS, type QueuedEmail } from './queued-email.js';
import type { OutcomeEvent, RecipientOutcome } from './recipient-outcomes.js';
import { promoteDueScheduledEmails } from './scheduled-emails.js';

/**
 * The SQL of the queue. The emails table is the queue: a worker claims due rows with
 * FOR UPDATE SKIP LOCKED (so concurrent workers never claim the same row) and holds them with a
 * lease (leased_by, lease_expires_at). Every transition writes its email_events row in the same
 * statement, and only the lease holder can move a row out of 'sending'.
 */

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Promotes due scheduled emails, then claims up to `limit` due emails, oldest first, for
 * `workerId`; records a 'sending' event each.
 */
export async function claimEmails(
  db: Queryable,
  workerId: string,
  limit: number,
  leaseSeconds: number,
): Promise<QueuedEmail[]> {
  await promoteDueScheduledEmails(db);
  const [batch] = await claimEmailsForWorkers(db, [workerId], limit, leaseSeconds);
  return batch ?? [];
}

/**
 * One claim for several workers of a process: up to `perWorker` due emails each, in one
 * statement, dealt out in turn (oldest first) and leased to their worker. Answers each worker's
 * batch, in the order of `workerIds`. Scheduled emails are claimed once promoted
 * (promoteDueScheduledEmails, which the workers run at most once a second).
 */
export async function claimEmailsForWorkers(
  db: Queryable,
  workerIds: readonly string[],
  perWorker: number,
  leaseSeconds: number,
): Promise<QueuedEmail[][]> {
  const { rows } = await db.query<QueuedEmail & { leasedBy: string }>(
    `WITH due AS (
       SELECT id, next_attempt_at, created_at FROM emails
        WHERE status = 'queued' AND next_attempt_at <= now()
          -- A disabled tenant's emails are held (one hashed lookup of the few disabled tenants).
          AND tenant_id NOT IN (SELECT id FROM tenants WHERE disabled_at IS NOT NULL)
        -- Exactly the order of emails_queue_due_idx: anything more (an id tie-breaker) makes
        -- PostgreSQL sort the whole queue instead of reading the first rows of the index.
        ORDER BY next_attempt_at, created_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
     ), dealt AS (
       SELECT id, ($1::text[])[1 + (row_number() OVER (ORDER BY next_attempt_at, created_at) - 1)
                                   % cardinality($1::text[])] AS worker_id
         FROM due
     ), claimed AS (
       UPDATE emails e
          SET status = 'sending', leased_by = dealt.worker_id, attempts = e.attempts + 1,
              updated_at = now(), attempting_since = coalesce(e.attempting_since, now()),
              lease_expires_at = now() + make_interval(secs => $3::double precision)
         FROM dealt WHERE e.id = dealt.id
       RETURNING e.*
     ), logged AS (
       INSERT INTO email_events (tenant_id, email_id, type, attempt, detail)
       SELECT tenant_id, id, 'sending', attempts, 'claimed by ' || leased_by FROM claimed
     )
     SELECT ${QUEUED_EMAIL_COLUMNS}, leased_by AS "leasedBy"
       FROM claimed ORDER BY next_attempt_at, created_at`,
    [workerIds, workerIds.length * perWorker, leaseSeconds],
  );
  const batches = new Map(workerIds.map((id) => [id, [] as QueuedEmail[]]));
  for (const { leasedBy, ...email } of rows) batches.get(leasedBy)?.push(email);
  return workerIds.map((id) => batches.get(id) ?? []);
}

/** Extends the leases that `workerId` still holds (a heartbeat while a batch is in flight). */
export async function renewLeases(
  db: Queryable,
  workerId: string,
  ids: readonly string[],
  leaseSeconds: number,
): Promise<number> {
  const result = await db.query(
    `UPDATE emails SET lease_expires_at = now() + make_interval(secs => $3::double precision)
      WHERE id = ANY($2::uuid[]) AND status = 'sending' AND leased_by = $1`,
    [workerId, ids, leaseSeconds],
  );
  return result.rowCount ?? 0;
}

export type Outcome = (
  | { type: 'delivered'; smtpResponse: string; detail?: string }
  | { type: 'bounced'; smtpResponse: string }
  | { type: 'failed'; smtpResponse: string | null; detail: string }
  | {
      type: 'deferred';
      smtpResponse: string;
      retryInSeconds: number;
      /** The relay itself answered some recipient with a 4xx (counted by QUEUE_RETRY_ATTEMPTS). */
      relayAnswered?: boolean;
      /** The wait passes QUEUE_DELAY_NOTICE: `delivery_delayed` is among the events. */
      delayNotice?: boolean;
    }
  | { type: 'suppressed'; smtpResponse: null; detail: string }
) & {
  /**
   * The attempt per recipient, when its recipients fared differently: its events and each
   * recipient's outcome. Without it, one event of the outcome's type is about every recipient.
   */
  perRecipient?: {
    events: readonly OutcomeEvent[];
    recipients: readonly RecipientOutcome[] | null;
  };
};

/** What a worker reports for one email it holds. */
export interface OutcomeReport {
  workerId: string;
  emailId: string;
  outcome: Outcome;
}

/**
 * Moves claimed emails out of 'sending', each with its event, in one statement — each only while
 * its worker still holds the lease, so two processes can never both finalise one email. Per
 * report: false when the lease was lost (expired and reclaimed by another worker).
 */
export async function recordOutcomes(
  db: Queryable,
  reports: readonly OutcomeReport[],
): Promise<boolean[]> {
  const rows = reports.map(({ workerId, emailId, outcome }) => {
    const detail = 'detail' in outcome ? (outcome.detail ?? null) : null;
    const events = outcome.perRecipient?.events ?? [
      { type: outcome.type, recipients: null, smtpResponse: outcome.smtpResponse, detail },
    ];
    return {
      email_id: emailId,
      worker_id: workerId,
      status: outcome.type === 'deferred' ? 'queued' : outcome.type,
      type: outcome.type,
      smtp_response: outcome.smtpResponse,
      retry_in: outcome.type === 'deferred' ? outcome.retryInSeconds : 0,
      relay_answered: outcome.type === 'deferred' && outcome.relayAnswered === true,
      delay_notice: outcome.type === 'deferred' && outcome.delayNotice === true,
      last_error: outcome.type === 'delivered' ? null : (outcome.smtpResponse ?? detail),
      detail,
      events: events.map((event) => ({
        type: event.type,
        recipients: event.recipients,
        smtp_response: event.smtpResponse,
        detail: event.detail,
      })),
      recipients:
        outcome.perRecipient?.recipients?.map((recipient) => ({
          address: recipient.address,
          status: recipient.status,
          smtp_response: recipient.smtpResponse,
        })) ?? null,
    };
  });
  const { rows: moved } = await db.query<{ id: string }>({
    // Named: parsed and planned once per connection, not for every batch.
    name: 'selfmx_record_outcomes',
    text: `WITH outcome AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(email_id uuid, worker_id text,
         status text, type text, smtp_response text, retry_in double precision,
         relay_answered boolean, delay_notice boolean, last_error text, detail text,
         events jsonb, recipients jsonb)
     ), moved AS (
       UPDATE emails e
          SET status = o.status,
              next_attempt_at = CASE WHEN o.status = 'queued'
                                     THEN now() + make_interval(secs => o.retry_in)
                                     ELSE e.next_attempt_at END,
              sent_at = CASE WHEN o.status = 'delivered' THEN now() ELSE e.sent_at END,
              relay_deferrals = e.relay_deferrals + o.relay_answered::int,
              delayed_event_at = CASE WHEN o.delay_notice THEN now() ELSE e.delayed_event_at END,
              last_error = o.last_error,
              lease_expires_at = NULL, leased_by = NULL, updated_at = now()
         FROM outcome o
        WHERE e.id = o.email_id AND e.status = 'sending' AND e.leased_by = o.worker_id
       RETURNING e.id, e.tenant_id, e.attempts, e.to_addresses || e.cc_addresses
                 || e.bcc_addresses AS everyone, o.events, o.recipients
     ), event AS (
       SELECT m.id, m.tenant_id, m.attempts, m.everyone, ev.*
         FROM moved m CROSS JOIN LATERAL jsonb_to_recordset(m.events)
              AS ev(type text, recipients text[], smtp_response text, detail text)
     ), logged AS (
       INSERT INTO email_events (tenant_id, email_id, type, attempt, smtp_response, detail,
                                 recipients)
       SELECT tenant_id, id, type, attempts, smtp_response, detail, recipients FROM event
     ), per_recipient AS (
       INSERT INTO email_recipients (tenant_id, email_id, address, status, smtp_response, attempt)
       SELECT m.tenant_id, m.id, r.address, r.status, r.smtp_response, m.attempts
         FROM moved m CROSS JOIN LATERAL jsonb_to_recordset(m.recipients)
              AS r(address text, status text, smtp_response text)
       ON CONFLICT (email_id, address) DO UPDATE
          SET status = excluded.status, smtp_response = excluded.smtp_response,
              attempt = excluded.attempt, updated_at = now()
     ), suppressed AS (
       -- A permanent refusal puts the address on the tenant's suppression list.
       INSERT INTO suppressions (tenant_id, email, origin, source_id, reason)
       SELECT DISTINCT ON (tenant_id, selfmx_address_key(address))
              tenant_id, selfmx_address_key(address), 'bounce', id,
              left(coalesce(smtp_response, 'bounced'), 1000)
         FROM event CROSS JOIN LATERAL unnest(coalesce(recipients, everyone)) AS a(address)
        WHERE type = 'bounced'
       ON CONFLICT (tenant_id, email) DO NOTHING
     )
     SELECT id FROM moved`,
    values: [JSON.stringify(rows)],
  });
  const recorded = new Set(moved.map((row) => row.id));
  return reports.map((report) => recorded.has(report.emailId));
}

/**
 * Releases leases that expired (their worker or process died mid-send): back to 'queued' with
 * their original place in line, or 'failed' once the attempts are used up. The send may or may
 * not have reached the relay, which is why delivery is at-least-once; so an expired lease counts
 * as an attempt the relay answered (a process that dies on one email cannot retry it forever).
 * Past `maxAgeSeconds` of trying (when given), the email fails too.
 */
export async function reclaimExpiredLeases(
  db: Queryable,
  maxRelayDeferrals: number,
  maxAgeSeconds?: number,
): Promise<{ requeued: number; failed: number }> {
  const { rows } = await db.query<{ type: 'deferred' | 'failed' }>({
    // Named: parsed and planned once per connection, not before every claim.
    name: 'selfmx_reclaim_expired_leases',
    text: `WITH expired AS (
       SELECT id, leased_by FROM emails
        WHERE status = 'sending' AND lease_expires_at < now()
        ORDER BY lease_expires_at
        LIMIT 100
        FOR UPDATE SKIP LOCKED
     ), released AS (
       UPDATE emails e
          SET status = CASE WHEN e.relay_deferrals + 1 >= $1
                                   OR e.attempting_since
                                      < now() - make_interval(secs => $2::double precision)
                            THEN 'failed' ELSE 'queued' END,
              relay_deferrals = e.relay_deferrals + 1,
              last_error = 'the lease of ' || expired.leased_by
                           || ' expired before the send was confirmed',
              lease_expires_at = NULL, leased_by = NULL, updated_at = now()
         FROM expired WHERE e.id = expired.id
       RETURNING e.id, e.tenant_id, e.attempts, e.status, e.last_error
     )
     INSERT INTO email_events (tenant_id, email_id, type, attempt, detail)
     SELECT tenant_id, id, CASE status WHEN 'failed' THEN 'failed' ELSE 'deferred' END,
            attempts, last_error
       FROM released
     RETURNING type`,
    values: [maxRelayDeferrals, maxAgeSeconds ?? null],
  });
  const failed = rows.filter((row) => row.type === 'failed').length;
  return { requeued: rows.length - failed, failed };
}

/** Queued emails are counted up to this many, so that the count stays cheap with a backlog. */
export const QUEUE_DEPTH_CAP = 100_000;

/**
 * Emails waiting in the queue (due or backing off), up to QUEUE_DEPTH_CAP. Read through
 * QueueDepth (queue-depth.ts), never once per request.
 */
export async function countQueuedEmails(db: Queryable, timeoutMs?: number): Promise<number> {
  const { rows } = await db.query<{ depth: number }>({
    text: `SELECT count(*)::int AS depth FROM
             (SELECT 1 FROM emails WHERE status = 'queued' LIMIT $1) AS queued`,
    values: [QUEUE_DEPTH_CAP],
    query_timeout: timeoutMs,
  } as pg.QueryConfig);
  return rows[0]?.depth ?? 0;
}
