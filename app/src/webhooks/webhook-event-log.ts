import type pg from 'pg';

/** What a tenant reads of an endpoint's events and attempts, and replays. */

type Queryable = Pick<pg.Pool, 'query'>;

export interface WebhookEventRow {
  id: string;
  type: string;
  status: 'pending' | 'attempting' | 'success' | 'failed';
  created_at: Date;
  next_attempt_at: Date;
  payload: Record<string, unknown>;
}

export interface WebhookAttemptRow {
  id: string;
  http_status: number | null;
  response: string;
  sent_at: Date;
}

const OWNED = `webhook_id = $2 AND tenant_id = $1`;

/** Newest first; `after` is the id of the last event of the previous page. */
export async function listWebhookEvents(
  db: Queryable,
  tenantId: string,
  webhookId: string,
  page: { limit: number; after?: string | undefined },
): Promise<{ rows: WebhookEventRow[]; hasMore: boolean }> {
  const { rows } = await db.query<WebhookEventRow>(
    `SELECT id, type, status, created_at, next_attempt_at, payload FROM webhook_events
      WHERE ${OWNED}
        AND ($4::uuid IS NULL OR (created_at, id) < (
              SELECT created_at, id FROM webhook_events WHERE ${OWNED} AND id = $4))
      ORDER BY created_at DESC, id DESC
      LIMIT $3 + 1`,
    [tenantId, webhookId, page.limit, page.after ?? null],
  );
  return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

export async function findWebhookEvent(
  db: Queryable,
  tenantId: string,
  webhookId: string,
  eventId: string,
): Promise<WebhookEventRow | undefined> {
  const { rows } = await db.query<WebhookEventRow>(
    `SELECT id, type, status, created_at, next_attempt_at, payload FROM webhook_events
      WHERE ${OWNED} AND id = $3`,
    [tenantId, webhookId, eventId],
  );
  return rows[0];
}

/** Oldest first; `after` is the id of the last attempt of the previous page. */
export async function listWebhookAttempts(
  db: Queryable,
  eventId: string,
  page: { limit: number; after?: string | undefined },
): Promise<{ rows: WebhookAttemptRow[]; hasMore: boolean }> {
  const { rows } = await db.query<WebhookAttemptRow>(
    `SELECT id::text, http_status, response, sent_at FROM webhook_attempts
      WHERE webhook_event_id = $1 AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id LIMIT $2 + 1`,
    [eventId, page.limit, page.after ?? null],
  );
  return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

/** Sends the event again from the start of the schedule, with the same webhook-id. */
export async function replayWebhookEvent(
  db: Queryable,
  tenantId: string,
  webhookId: string,
  eventId: string,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = now(),
                           claim_token = NULL
      WHERE ${OWNED} AND id = $3`,
    [tenantId, webhookId, eventId],
  );
  return (result.rowCount ?? 0) > 0;
}
