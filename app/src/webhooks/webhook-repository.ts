import type pg from 'pg';

/** The SQL of webhook endpoints; every statement is scoped to one tenant. */

type Queryable = Pick<pg.Pool, 'query'>;

export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  secret: string;
  enabled: boolean;
  created_at: Date;
  disabled_reason: string | null;
}

const COLUMNS = 'id, url, events, secret, enabled, created_at, disabled_reason';

export async function createWebhook(
  db: Queryable,
  tenantId: string,
  fields: { url: string; events: readonly string[]; secret: string },
): Promise<WebhookRow> {
  const { rows } = await db.query<WebhookRow>(
    `INSERT INTO webhooks (tenant_id, url, events, secret) VALUES ($1, $2, $3, $4)
     RETURNING ${COLUMNS}`,
    [tenantId, fields.url, fields.events, fields.secret],
  );
  return rows[0] as WebhookRow;
}

/** Newest first; `after` is the id of the last webhook of the previous page. */
export async function listWebhooks(
  db: Queryable,
  tenantId: string,
  page: { limit: number; after?: string | undefined },
): Promise<{ rows: WebhookRow[]; hasMore: boolean }> {
  const { rows } = await db.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks w
      WHERE tenant_id = $1
        AND ($3::uuid IS NULL OR (created_at, id) < (
              SELECT created_at, id FROM webhooks WHERE tenant_id = $1 AND id = $3))
      ORDER BY created_at DESC, id DESC
      LIMIT $2 + 1`,
    [tenantId, page.limit, page.after ?? null],
  );
  return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

export async function findWebhook(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0];
}

/** Changes the given fields; enabling an endpoint forgets its failures. */
export async function updateWebhook(
  db: Queryable,
  tenantId: string,
  id: string,
  changes: {
    url?: string | undefined;
    events?: readonly string[] | undefined;
    enabled?: boolean | undefined;
  },
): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>(
    `UPDATE webhooks
        SET url = coalesce($3::text, url), events = coalesce($4::text[], events),
            enabled = coalesce($5::boolean, enabled),
            failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END,
            disabled_reason = CASE WHEN $5 IS NULL THEN disabled_reason
                                   WHEN $5 THEN NULL ELSE 'disabled through the API' END,
            updated_at = now()
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${COLUMNS}`,
    [tenantId, id, changes.url ?? null, changes.events ?? null, changes.enabled ?? null],
  );
  return rows[0];
}

export async function replaceSigningSecret(
  db: Queryable,
  tenantId: string,
  id: string,
  secret: string,
): Promise<boolean> {
  const result = await db.query(
    'UPDATE webhooks SET secret = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2',
    [tenantId, id, secret],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function deleteWebhook(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const result = await db.query('DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  return (result.rowCount ?? 0) > 0;
}
