import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  countRequestsCte,
  countTenantRequestsCte,
  type KeyRateLimit,
} from '../rate-limit/rate-limiter.js';
import { addressOf } from './email-address.js';

/** The emails table as the API writes and reads it (the delivery workers own the rest). */

type Queryable = pg.Pool | pg.PoolClient;

/**
 * A validated email ready to queue. Stored shapes the delivery workers read:
 * addresses as `a@b` or `"Name" <a@b>`; headers `{ name: value }`; attachments
 * `[{ filename, content (base64), content_type? }]`; tags `[{ name, value }]`.
 */
export interface NewEmail {
  tenantId: string;
  apiKeyId: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  attachments: {
    filename: string;
    content: string;
    content_type?: string | undefined;
    /** Makes the attachment inline, referenced as `cid:<content_id>` in the html. */
    content_id?: string | undefined;
  }[];
  tags: { name: string; value: string }[];
  templateId: string | null;
  templateData: Record<string, unknown> | null;
  idempotencyKey: string | null;
  requestHash: Buffer | null;
  /** When to send it; null: at once. A scheduled email waits in status 'scheduled'. */
  scheduledAt: Date | null;
}

/** A request's place in its rate-limit windows, once counted (1: the window's first request). */
export interface RequestCount {
  key: { requests: number; resetSeconds: number };
  /** The tenant's window, when the tenant has a limit across its keys. */
  tenant: { requests: number; resetSeconds: number; limit: number; windowSeconds: number } | null;
}

export type InsertOutcome = (
  | { kind: 'inserted'; id: string; createdAt: Date }
  | { kind: 'existing'; id: string; createdAt: Date; sameRequest: boolean }
  | { kind: 'over_quota'; quota: 'emails' | 'bytes'; limit: number; resetsAt: Date }
  /** The presented key was revoked (or is gone), or its tenant disabled: nothing written. */
  | { kind: 'key_refused'; reason: 'revoked' | 'tenant_disabled' }
  /** Over the key's or the tenant's rate limit: counted, nothing else written. */
  | { kind: 'rate_limited' }
) & {
  /** Set when the statement authenticated the key and counted the request. */
  counted?: RequestCount;
};

/** Who accepted the email, for its `email.accepted` audit entry. */
export interface AcceptedBy {
  requestId: string;
  ip: string | undefined;
}

/** One email to queue, with who accepted it. */
export interface EmailToQueue {
  email: NewEmail;
  by: AcceptedBy;
  /**
   * The hash of the presented API key, when the statement itself authenticates the request: it
   * checks the key (email.apiKeyId) is live and its tenant enabled, and counts the request
   * against the key's and the tenant's rate limits, before it queues anything.
   */
  keyHash?: Buffer;
}

/**
 * Queues a batch of emails in ONE statement (atomic, one round trip): per email its row, its
 * `queued` event and its `email.accepted` audit entry. The caller wakes the workers once it has
 * committed (see queue-notifier.ts). An email whose idempotency key the tenant already used
 * (earlier, or earlier in this batch) writes nothing: its outcome is the email that holds the key.
 *
 * The same statement counts each tenant's emails and bytes of the UTC day in
 * tenant_daily_usage, under that row's lock: of a tenant's emails in the batch, in order, those
 * that fit within its daily quotas are queued and the rest refused, so concurrent statements
 * (other instances) can never together pass a quota.
 *
 * An email given with its key's hash is first authenticated and counted, as
 * findKeysAndCountRequests does (rate-limit/authenticate-and-count.ts): a revoked key or a
 * disabled tenant writes nothing; a live key's request is counted, and one over the key's or the
 * tenant's rate limit writes nothing more. So a known key costs one round trip per send.
 */
export async function insertQueuedEmails(
  db: Queryable,
  batch: readonly EmailToQueue[],
  keyRateLimit: KeyRateLimit,
): Promise<InsertOutcome[]> {
  // Ids are chosen here, so that each email of the batch finds its own row in RETURNING.
  const queued = batch.map(({ email, by, keyHash }) => ({ id: randomUUID(), email, by, keyHash }));
  const rows = queued.map(({ id, email, by, keyHash }, index) => ({
    id,
    tenant_id: email.tenantId,
    api_key_id: email.apiKeyId,
    from_address: email.from,
    to_addresses: email.to,
    cc_addresses: email.cc,
    bcc_addresses: email.bcc,
    reply_to: email.replyTo,
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: email.headers,
    attachments: email.attachments,
    tags: email.tags,
    template_id: email.templateId,
    template_data: email.templateData,
    idempotency_key: email.idempotencyKey,
    request_hash: email.requestHash === null ? null : `\\x${email.requestHash.toString('hex')}`,
    request_id: by.requestId,
    ip: by.ip ?? null,
    recipients: email.to.length + email.cc.length + email.bcc.length,
    ord: index,
    size: emailBytes(email),
    scheduled_at: email.scheduledAt?.toISOString() ?? null,
    key_hash: keyHash === undefined ? null : `\\x${keyHash.toString('hex')}`,
  }));
  const { rows: written } = await db.query<WrittenRow>({
    // Named: parsed and planned once per connection, not per batch.
    name: 'selfmx_queue_emails',
    text: `WITH batch AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(id uuid, tenant_id uuid, api_key_id uuid,
         from_address text, to_addresses text[], cc_addresses text[], bcc_addresses text[],
         reply_to text[], subject text, html text, text text, headers jsonb, attachments jsonb,
         tags jsonb, template_id uuid, template_data jsonb, idempotency_key text,
         request_hash bytea, request_id text, ip inet, recipients int, ord int, size bigint,
         scheduled_at timestamptz, key_hash bytea)
     ), presented AS (
       -- The emails whose key this statement authenticates, with the key's state now.
       SELECT b.id, b.ord, b.api_key_id, b.tenant_id, t.rate_limit_requests AS tenant_limit,
              t.rate_limit_window AS tenant_window,
              CASE WHEN k.id IS NULL OR k.revoked_at IS NOT NULL THEN 'revoked'
                   WHEN t.disabled_at IS NOT NULL THEN 'tenant_disabled'
                   ELSE 'live' END AS key_state
       FROM batch b
       LEFT JOIN api_keys k
         ON k.id = b.api_key_id AND k.tenant_id = b.tenant_id AND k.key_hash = b.key_hash
       LEFT JOIN tenants t ON t.id = b.tenant_id
       WHERE b.key_hash IS NOT NULL
     ), live AS (
       SELECT api_key_id AS id, count(*)::int AS n FROM presented WHERE key_state = 'live'
       GROUP BY api_key_id
     ),
     ${countRequestsCte('live', '$2')},
     limited_tenants AS (
       SELECT tenant_id AS id, count(*)::int AS n, min(tenant_window) AS "window"
       FROM presented WHERE key_state = 'live' AND tenant_limit IS NOT NULL GROUP BY tenant_id
     ),
     ${countTenantRequestsCte('limited_tenants')},
     placed AS (
       -- Each email's place in its windows: the n of a key take the places before its new count.
       SELECT p.id,
         (hit.requests - live.n
           + row_number() OVER (PARTITION BY p.api_key_id ORDER BY p.ord))::int AS key_place,
         hit.reset_seconds,
         (tenant_hit.requests - limited_tenants.n
           + row_number() OVER (PARTITION BY p.tenant_id ORDER BY p.ord))::int AS tenant_place,
         ceil(extract(epoch FROM tenant_hit.window_start
           + make_interval(secs => p.tenant_window) - clock_timestamp()))::int
           AS tenant_reset_seconds,
         p.tenant_limit, p.tenant_window
       FROM presented p JOIN live ON live.id = p.api_key_id
       JOIN hit ON hit.api_key_id = p.api_key_id
       LEFT JOIN limited_tenants ON limited_tenants.id = p.tenant_id
       LEFT JOIN tenant_hit ON tenant_hit.tenant_id = p.tenant_id
       WHERE p.key_state = 'live'
     ), authenticated AS (
       SELECT p.id, pl.key_place, pl.reset_seconds, pl.tenant_place, pl.tenant_reset_seconds,
              pl.tenant_limit, pl.tenant_window,
              CASE WHEN p.key_state <> 'live' THEN p.key_state
                   WHEN pl.key_place > $3::int OR pl.tenant_place > pl.tenant_limit
                     THEN 'rate_limited'
                   ELSE 'live' END AS key_state
       FROM presented p LEFT JOIN placed pl ON pl.id = p.id
     ), ranked AS (
       SELECT b.*, count(*) OVER w AS cum_emails, sum(b.size) OVER w AS cum_bytes
       FROM batch b
       WHERE NOT EXISTS (SELECT 1 FROM authenticated a WHERE a.id = b.id AND a.key_state <> 'live')
       WINDOW w AS (PARTITION BY b.tenant_id ORDER BY b.ord)
     ), quota AS (
       SELECT t.id AS tenant_id, t.daily_email_quota, t.daily_byte_quota
       FROM tenants t WHERE t.id IN (SELECT tenant_id FROM ranked)
     ), counted AS (
       -- Fits: the tenant's emails of the batch, in order, that stay within its quotas on top of
       -- what the day already counts (0 for a new day, the locked row's counts otherwise).
       INSERT INTO tenant_daily_usage AS u (tenant_id, day, emails, bytes)
       SELECT q.tenant_id, (now() AT TIME ZONE 'UTC')::date, fit.emails, fit.bytes
       FROM quota q CROSS JOIN LATERAL (
         SELECT count(*) AS emails, coalesce(sum(r.size), 0) AS bytes FROM ranked r
         WHERE r.tenant_id = q.tenant_id
           AND (q.daily_email_quota IS NULL OR r.cum_emails <= q.daily_email_quota)
           AND (q.daily_byte_quota IS NULL OR r.cum_bytes <= q.daily_byte_quota)) AS fit
       ON CONFLICT (tenant_id, day) DO UPDATE SET
         emails_before = u.emails,
         bytes_before = u.bytes,
         emails = u.emails + (
           SELECT count(*) FROM ranked r JOIN quota q USING (tenant_id)
           WHERE r.tenant_id = u.tenant_id
             AND (q.daily_email_quota IS NULL OR r.cum_emails <= q.daily_email_quota - u.emails)
             AND (q.daily_byte_quota IS NULL OR r.cum_bytes <= q.daily_byte_quota - u.bytes)),
         bytes = u.bytes + (
           SELECT coalesce(sum(r.size), 0) FROM ranked r JOIN quota q USING (tenant_id)
           WHERE r.tenant_id = u.tenant_id
             AND (q.daily_email_quota IS NULL OR r.cum_emails <= q.daily_email_quota - u.emails)
             AND (q.daily_byte_quota IS NULL OR r.cum_bytes <= q.daily_byte_quota - u.bytes))
       RETURNING u.tenant_id, u.emails_before, u.bytes_before
     ), judged AS (
       SELECT r.*, CASE
         WHEN q.daily_email_quota IS NOT NULL
          AND r.cum_emails > q.daily_email_quota - c.emails_before
           THEN 'emails'
         WHEN q.daily_byte_quota IS NOT NULL
          AND r.cum_bytes > q.daily_byte_quota - c.bytes_before
           THEN 'bytes'
         END AS over,
         CASE WHEN q.daily_email_quota IS NOT NULL
               AND r.cum_emails > q.daily_email_quota - c.emails_before
              THEN q.daily_email_quota ELSE q.daily_byte_quota END AS quota_limit
       FROM ranked r JOIN quota q USING (tenant_id) JOIN counted c USING (tenant_id)
     ), admitted AS (SELECT * FROM judged WHERE over IS NULL
     ), inserted AS (
       INSERT INTO emails (id, tenant_id, api_key_id, from_address, to_addresses, cc_addresses,
         bcc_addresses, reply_to, subject, html, text, headers, attachments, tags, template_id,
         template_data, idempotency_key, request_hash, status, scheduled_at, next_attempt_at)
       SELECT id, tenant_id, api_key_id, from_address, to_addresses, cc_addresses,
         bcc_addresses, reply_to, subject, html, text, headers, attachments, tags, template_id,
         template_data, idempotency_key, request_hash,
         CASE WHEN scheduled_at IS NULL THEN 'queued' ELSE 'scheduled' END, scheduled_at,
         coalesce(scheduled_at, now())
       FROM admitted
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id, tenant_id, api_key_id, created_at, status
     ), event AS (
       INSERT INTO email_events (tenant_id, email_id, type)
       SELECT tenant_id, id, status FROM inserted
     ), audit AS (
       INSERT INTO audit_logs (tenant_id, actor_key_id, action, target_type, target_id, request_id, ip, detail)
       SELECT inserted.tenant_id, inserted.api_key_id, 'email.accepted', 'email', inserted.id::text,
              batch.request_id, batch.ip, jsonb_build_object('recipients', batch.recipients)
       FROM inserted JOIN batch USING (id)
     ), resets AS (
       SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC'
         AS resets_at
     )
     SELECT b.id, i.created_at, j.over AS quota, j.quota_limit, resets_at, a.key_state,
            a.key_place, a.reset_seconds, a.tenant_place, a.tenant_reset_seconds, a.tenant_limit,
            a.tenant_window
     FROM batch b CROSS JOIN resets
     LEFT JOIN inserted i ON i.id = b.id
     LEFT JOIN judged j ON j.id = b.id AND j.over IS NOT NULL
     LEFT JOIN authenticated a ON a.id = b.id`,
    values: [JSON.stringify(rows), keyRateLimit.windowSeconds, keyRateLimit.requests],
  });
  const byId = new Map(written.map((row) => [row.id, row]));
  const unwritten = queued.filter(({ id }) => {
    const row = byId.get(id);
    return !row?.created_at && !row?.quota && (row?.key_state ?? 'live') === 'live';
  });
  const holders = await findIdempotencyHolders(
    db,
    unwritten.map(({ email }) => email),
  );
  return queued.map(({ id, email }): InsertOutcome => {
    const row = byId.get(id);
    if (!row) throw new Error(`the accept statement returned no row for email ${id}`);
    const counted = requestCount(row);
    const outcome = (value: InsertOutcome): InsertOutcome =>
      counted ? { ...value, counted } : value;
    if (row.key_state === 'revoked' || row.key_state === 'tenant_disabled') {
      return { kind: 'key_refused', reason: row.key_state };
    }
    if (row.key_state === 'rate_limited') return outcome({ kind: 'rate_limited' });
    if (row.created_at) return outcome({ kind: 'inserted', id, createdAt: row.created_at });
    if (row.quota) {
      return outcome({
        kind: 'over_quota',
        quota: row.quota,
        limit: Number(row.quota_limit),
        resetsAt: row.resets_at,
      });
    }
    const holder = holders.get(idempotencyTag(email.tenantId, email.idempotencyKey));
    if (!holder) throw new Error('idempotency key conflict without an existing email');
    return outcome({
      kind: 'existing',
      id: holder.id,
      createdAt: holder.created_at,
      sameRequest: email.requestHash !== null && holder.request_hash.equals(email.requestHash),
    });
  });
}

/** One row of the accept statement's answer: one per email of the batch. */
interface WrittenRow {
  id: string;
  created_at: Date | null;
  quota: 'emails' | 'bytes' | null;
  quota_limit: string | null;
  resets_at: Date;
  /** Null unless the statement authenticated the email's key. */
  key_state: 'live' | 'revoked' | 'tenant_disabled' | 'rate_limited' | null;
  key_place: number | null;
  reset_seconds: number | null;
  tenant_place: number | null;
  tenant_reset_seconds: number | null;
  tenant_limit: number | null;
  tenant_window: number | null;
}

function requestCount(row: WrittenRow): RequestCount | undefined {
  if (row.key_place === null) return undefined;
  const tenant =
    row.tenant_place === null || row.tenant_limit === null || row.tenant_window === null
      ? null
      : {
          requests: row.tenant_place,
          resetSeconds: row.tenant_reset_seconds ?? 1,
          limit: row.tenant_limit,
          windowSeconds: row.tenant_window,
        };
  return { key: { requests: row.key_place, resetSeconds: row.reset_seconds ?? 1 }, tenant };
}

/**
 * What an email weighs against a daily byte quota: the UTF-8 bytes of its subject and bodies
 * plus the decoded bytes of its attachments.
 */
export function emailBytes(email: NewEmail): number {
  let bytes =
    Buffer.byteLength(email.subject) +
    Buffer.byteLength(email.html ?? '') +
    Buffer.byteLength(email.text ?? '');
  for (const attachment of email.attachments) {
    const padding = attachment.content.endsWith('==')
      ? 2
      : attachment.content.endsWith('=')
        ? 1
        : 0;
    bytes += Math.floor((attachment.content.length * 3) / 4) - padding;
  }
  return bytes;
}

const idempotencyTag = (tenantId: string, key: string | null) => `${tenantId} ${key}`;

/** The emails that hold the idempotency keys of `emails`, by tenant and key. */
async function findIdempotencyHolders(
  db: Queryable,
  emails: readonly NewEmail[],
): Promise<Map<string, { id: string; created_at: Date; request_hash: Buffer }>> {
  if (emails.length === 0) return new Map();
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    idempotency_key: string;
    created_at: Date;
    request_hash: Buffer;
  }>(
    `SELECT id, tenant_id, idempotency_key, created_at, request_hash FROM emails
     WHERE (tenant_id, idempotency_key) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
    [emails.map((email) => email.tenantId), emails.map((email) => email.idempotencyKey)],
  );
  return new Map(rows.map((row) => [idempotencyTag(row.tenant_id, row.idempotency_key), row]));
}

export interface EmailRow {
  id: string;
  status: string;
  from_address: string;
  to_addresses: string[];
  cc_addresses: string[];
  bcc_addresses: string[];
  reply_to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  tags: { name: string; value: string }[];
  template_id: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  next_attempt_at: Date;
  /** When retention emptied the content (html and text are null from then on). */
  purged_at: Date | null;
  /** The time the client scheduled it for; null when it was sent at once. */
  scheduled_at: Date | null;
}

const SUMMARY_COLUMNS = `id, status, from_address, to_addresses, cc_addresses, bcc_addresses,
  reply_to, subject, tags, template_id, attempts, last_error, created_at, updated_at, sent_at,
  next_attempt_at, purged_at, scheduled_at`;

export async function findEmail(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<EmailRow | undefined> {
  const { rows } = await db.query<EmailRow>(
    `SELECT ${SUMMARY_COLUMNS}, html, text FROM emails WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0];
}

export async function emailExists(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM emails WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  return (rowCount ?? 0) > 0;
}

export interface EmailFilters {
  status?: string | undefined;
  /** A bare address; matches with or without a display name. */
  from?: string | undefined;
  to?: string | undefined;
  /** Resend's cursors (email ids): the emails older (`after`) or newer (`before`) than that one. */
  after?: string | undefined;
  before?: string | undefined;
  limit: number;
  offset: number;
}

/** Newest first; `total` counts every match (cursors aside), `hasMore` says if a page follows. */
export async function listEmails(
  db: Queryable,
  tenantId: string,
  filters: EmailFilters,
): Promise<{ rows: Omit<EmailRow, 'html' | 'text'>[]; total: number; hasMore: boolean }> {
  const values: unknown[] = [tenantId];
  const conditions = ['tenant_id = $1'];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    conditions.push(sql.replaceAll('?', `$${values.length}`));
  };
  if (filters.status) add('status = ?', filters.status);
  if (filters.from)
    add(`lower(${BARE_ADDRESS('from_address')}) = lower(?)`, addressOf(filters.from));
  if (filters.to) {
    add(
      `EXISTS (SELECT 1 FROM unnest(to_addresses) AS t(mailbox)
               WHERE lower(${BARE_ADDRESS('t.mailbox')}) = lower(?))`,
      addressOf(filters.to),
    );
  }
  const where = conditions.join(' AND ');
  const cursor = filters.after ?? filters.before;
  const pageValues = cursor === undefined ? values : [...values, cursor];
  const pageWhere =
    cursor === undefined
      ? where
      : `${where} AND (created_at, id) ${filters.after ? '<' : '>'}
           (SELECT created_at, id FROM emails WHERE tenant_id = $1 AND id = $${pageValues.length})`;
  // `before` walks towards newer emails: read upwards from the cursor, then show newest first.
  const direction = filters.before ? 'ASC' : 'DESC';
  const [list, count] = await Promise.all([
    db.query<EmailRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM emails WHERE ${pageWhere}
       ORDER BY created_at ${direction}, id ${direction}
       LIMIT ${Number(filters.limit) + 1} OFFSET ${Number(filters.offset)}`,
      pageValues,
    ),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM emails WHERE ${where}`, values),
  ]);
  const rows = list.rows.slice(0, filters.limit);
  if (filters.before) rows.reverse();
  return { rows, total: count.rows[0]?.total ?? 0, hasMore: list.rows.length > filters.limit };
}

/** SQL for the address part of a stored mailbox (`"Name" <a@b>` -> `a@b`). */
const BARE_ADDRESS = (column: string) =>
  `coalesce(substring(${column} from '<([^<>]*)>$'), ${column})`;

export interface RecipientOutcomeRow {
  address: string;
  status: string;
  smtp_response: string | null;
  updated_at: Date;
}

/** The recorded per-recipient outcomes of an email (none while its recipients fare alike). */
export async function listRecipientOutcomes(
  db: Queryable,
  tenantId: string,
  emailId: string,
): Promise<RecipientOutcomeRow[]> {
  const { rows } = await db.query<RecipientOutcomeRow>(
    `SELECT address, status, smtp_response, updated_at FROM email_recipients
      WHERE tenant_id = $1 AND email_id = $2`,
    [tenantId, emailId],
  );
  return rows;
}

export interface EmailEventRow {
  id: string;
  type: string;
  recipients: string[] | null;
  attempt: number;
  smtp_response: string | null;
  detail: string | null;
  created_at: Date;
}

export async function listEmailEvents(
  db: Queryable,
  tenantId: string,
  emailId: string,
): Promise<EmailEventRow[]> {
  const { rows } = await db.query<EmailEventRow>(
    `SELECT id::text, type, recipients, attempt, smtp_response, detail, created_at FROM email_events
     WHERE tenant_id = $1 AND email_id = $2 ORDER BY email_events.id LIMIT 1000`,
    [tenantId, emailId],
  );
  return rows;
}
