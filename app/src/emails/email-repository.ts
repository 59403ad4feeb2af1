import { randomUUID } from 'node:crypto';
import type pg from 'pg';
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
  attachments: { filename: string; content: string; content_type?: string | undefined }[];
  tags: { name: string; value: string }[];
  templateId: string | null;
  templateData: Record<string, unknown> | null;
  idempotencyKey: string | null;
  requestHash: Buffer | null;
}

export type InsertOutcome =
  | { kind: 'inserted'; id: string; createdAt: Date }
  | { kind: 'existing'; id: string; createdAt: Date; sameRequest: boolean };

/** Who accepted the email, for its `email.accepted` audit entry. */
export interface AcceptedBy {
  requestId: string;
  ip: string | undefined;
}

/** One email to queue, with who accepted it. */
export interface EmailToQueue {
  email: NewEmail;
  by: AcceptedBy;
}

/**
 * Queues a batch of emails in ONE statement (atomic, one round trip): per email its row, its
 * `queued` event and its `email.accepted` audit entry. The caller wakes the workers once it has
 * committed (see queue-notifier.ts). An email whose idempotency key the tenant already used
 * (earlier, or earlier in this batch) writes nothing: its outcome is the email that holds the key.
 */
export async function insertQueuedEmails(
  db: Queryable,
  batch: readonly EmailToQueue[],
): Promise<InsertOutcome[]> {
  // Ids are chosen here, so that each email of the batch finds its own row in RETURNING.
  const queued = batch.map(({ email, by }) => ({ id: randomUUID(), email, by }));
  const rows = queued.map(({ id, email, by }) => ({
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
  }));
  const { rows: inserted } = await db.query<{ id: string; created_at: Date }>({
    // Named: parsed and planned once per connection, not per batch.
    name: 'selfmx_queue_emails',
    text: `WITH batch AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS b(id uuid, tenant_id uuid, api_key_id uuid,
         from_address text, to_addresses text[], cc_addresses text[], bcc_addresses text[],
         reply_to text[], subject text, html text, text text, headers jsonb, attachments jsonb,
         tags jsonb, template_id uuid, template_data jsonb, idempotency_key text,
         request_hash bytea, request_id text, ip inet, recipients int)
     ), inserted AS (
       INSERT INTO emails (id, tenant_id, api_key_id, from_address, to_addresses, cc_addresses,
         bcc_addresses, reply_to, subject, html, text, headers, attachments, tags, template_id,
         template_data, idempotency_key, request_hash)
       SELECT id, tenant_id, api_key_id, from_address, to_addresses, cc_addresses,
         bcc_addresses, reply_to, subject, html, text, headers, attachments, tags, template_id,
         template_data, idempotency_key, request_hash
       FROM batch
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id, tenant_id, api_key_id, created_at
     ), event AS (
       INSERT INTO email_events (tenant_id, email_id, type)
       SELECT tenant_id, id, 'queued' FROM inserted
     ), audit AS (
       INSERT INTO audit_logs (tenant_id, actor_key_id, action, target_type, target_id, request_id, ip, detail)
       SELECT inserted.tenant_id, inserted.api_key_id, 'email.accepted', 'email', inserted.id::text,
              batch.request_id, batch.ip, jsonb_build_object('recipients', batch.recipients)
       FROM inserted JOIN batch USING (id)
     )
     SELECT id, created_at FROM inserted`,
    values: [JSON.stringify(rows)],
  });
  const createdAt = new Map(inserted.map((row) => [row.id, row.created_at]));
  const holders = await findIdempotencyHolders(
    db,
    queued.filter(({ id }) => !createdAt.has(id)).map(({ email }) => email),
  );
  return queued.map(({ id, email }): InsertOutcome => {
    const created = createdAt.get(id);
    if (created) return { kind: 'inserted', id, createdAt: created };
    const holder = holders.get(idempotencyTag(email.tenantId, email.idempotencyKey));
    if (!holder) throw new Error('idempotency key conflict without an existing email');
    return {
      kind: 'existing',
      id: holder.id,
      createdAt: holder.created_at,
      sameRequest: email.requestHash !== null && holder.request_hash.equals(email.requestHash),
    };
  });
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
}

const SUMMARY_COLUMNS = `id, status, from_address, to_addresses, cc_addresses, bcc_addresses,
  reply_to, subject, tags, template_id, attempts, last_error, created_at, updated_at, sent_at,
  next_attempt_at, purged_at`;

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

export interface EmailEventRow {
  id: string;
  type: string;
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
    `SELECT id::text, type, attempt, smtp_response, detail, created_at FROM email_events
     WHERE tenant_id = $1 AND email_id = $2 ORDER BY email_events.id LIMIT 1000`,
    [tenantId, emailId],
  );
  return rows;
}
