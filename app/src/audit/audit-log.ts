import type pg from 'pg';

/**
 * The audit trail: who (actor key) did what (action) to which target, when, from which
 * request. Mutations are recorded in the same transaction as the change they describe.
 */

type Queryable = pg.Pool | pg.PoolClient;

export interface AuditEntry {
  /** NULL for failed authentications with an unknown key. */
  tenantId: string | null;
  actorKeyId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  requestId: string;
  ip?: string;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_logs (tenant_id, actor_key_id, action, target_type, target_id, request_id, ip, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      entry.tenantId,
      entry.actorKeyId,
      entry.action,
      entry.targetType ?? null,
      entry.targetId ?? null,
      entry.requestId,
      entry.ip ?? null,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
}

export interface AuditFilters {
  action?: string | undefined;
  actorKeyId?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Also show entries of no tenant (failed authentications with unknown keys). */
  includeUnattributed: boolean;
  limit: number;
  offset: number;
}

export interface AuditRow {
  id: string;
  actor_key_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  created_at: Date;
}

export async function listAudit(
  db: Queryable,
  tenantId: string,
  filters: AuditFilters,
): Promise<{ rows: AuditRow[]; total: number }> {
  const values: unknown[] = [tenantId, filters.includeUnattributed];
  const conditions = ['(tenant_id = $1 OR ($2 AND tenant_id IS NULL))'];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    conditions.push(sql.replace('?', `$${values.length}`));
  };
  if (filters.action) add('action = ?', filters.action);
  if (filters.actorKeyId) add('actor_key_id = ?', filters.actorKeyId);
  if (filters.targetType) add('target_type = ?', filters.targetType);
  if (filters.targetId) add('target_id = ?', filters.targetId);
  if (filters.since) add('created_at >= ?', filters.since);
  if (filters.until) add('created_at < ?', filters.until);
  const where = conditions.join(' AND ');
  const [list, count] = await Promise.all([
    db.query<AuditRow>(
      `SELECT id::text, actor_key_id, action, target_type, target_id, request_id, host(ip) AS ip,
              detail, created_at
       FROM audit_logs WHERE ${where}
       ORDER BY created_at DESC, audit_logs.id DESC
       LIMIT ${Number(filters.limit)} OFFSET ${Number(filters.offset)}`,
      values,
    ),
    db.query<{ total: number }>(
      `SELECT count(*)::int AS total FROM audit_logs WHERE ${where}`,
      values,
    ),
  ]);
  return { rows: list.rows, total: count.rows[0]?.total ?? 0 };
}
