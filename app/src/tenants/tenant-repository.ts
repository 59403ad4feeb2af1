import type pg from 'pg';

/** The tenants table as the operator's API reads and writes it. */

type Queryable = pg.Pool | pg.PoolClient;

/** A tenant's limits; null: none. */
export interface TenantLimits {
  /** Requests per window across all the tenant's keys (on top of each key's limit). */
  rateLimitRequests: number | null;
  rateLimitWindowSeconds: number;
  dailyEmailQuota: number | null;
  dailyByteQuota: number | null;
}

export interface Tenant extends TenantLimits {
  id: string;
  name: string;
  createdAt: Date;
  disabledAt: Date | null;
}

const COLUMNS = `id, name, created_at, disabled_at, rate_limit_requests, rate_limit_window,
  daily_email_quota::float8 AS daily_email_quota, daily_byte_quota::float8 AS daily_byte_quota`;

interface TenantRecord {
  id: string;
  name: string;
  created_at: Date;
  disabled_at: Date | null;
  rate_limit_requests: number | null;
  rate_limit_window: number;
  daily_email_quota: number | null;
  daily_byte_quota: number | null;
}

function tenantOf(row: TenantRecord): Tenant {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
    rateLimitRequests: row.rate_limit_requests,
    rateLimitWindowSeconds: row.rate_limit_window,
    dailyEmailQuota: row.daily_email_quota,
    dailyByteQuota: row.daily_byte_quota,
  };
}

/** A new tenant, or undefined when the name is taken. */
export async function insertTenant(
  db: Queryable,
  name: string,
  limits: Partial<TenantLimits>,
): Promise<Tenant | undefined> {
  const { rows } = await db.query<TenantRecord>(
    `INSERT INTO tenants (name, rate_limit_requests, rate_limit_window, daily_email_quota,
                          daily_byte_quota)
     VALUES ($1, $2, coalesce($3, 60), $4, $5)
     ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
    [
      name,
      limits.rateLimitRequests ?? null,
      limits.rateLimitWindowSeconds ?? null,
      limits.dailyEmailQuota ?? null,
      limits.dailyByteQuota ?? null,
    ],
  );
  return rows[0] && tenantOf(rows[0]);
}

export async function listTenants(
  db: Queryable,
  window: { limit: number; offset: number },
): Promise<{ tenants: Tenant[]; total: number }> {
  const [list, count] = await Promise.all([
    db.query<TenantRecord>(
      `SELECT ${COLUMNS} FROM tenants ORDER BY created_at, id LIMIT $1 OFFSET $2`,
      [window.limit, window.offset],
    ),
    db.query<{ total: number }>('SELECT count(*)::int AS total FROM tenants'),
  ]);
  return { tenants: list.rows.map(tenantOf), total: count.rows[0]?.total ?? 0 };
}

export async function findTenant(db: Queryable, id: string): Promise<Tenant | undefined> {
  const { rows } = await db.query<TenantRecord>(`SELECT ${COLUMNS} FROM tenants WHERE id = $1`, [
    id,
  ]);
  return rows[0] && tenantOf(rows[0]);
}

export interface TenantChange extends Partial<TenantLimits> {
  name?: string;
  /** true disables the tenant (from now), false enables it again. */
  disabled?: boolean;
}

/**
 * Applies the fields `change` gives (a limit given as null removes it); undefined when there is
 * no such tenant, 'name_taken' when another tenant has the new name.
 */
export async function updateTenant(
  db: Queryable,
  id: string,
  change: TenantChange,
): Promise<Tenant | 'name_taken' | undefined> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (change.name !== undefined) set('name', change.name);
  if (change.rateLimitRequests !== undefined) set('rate_limit_requests', change.rateLimitRequests);
  if (change.rateLimitWindowSeconds !== undefined) {
    set('rate_limit_window', change.rateLimitWindowSeconds);
  }
  if (change.dailyEmailQuota !== undefined) set('daily_email_quota', change.dailyEmailQuota);
  if (change.dailyByteQuota !== undefined) set('daily_byte_quota', change.dailyByteQuota);
  if (change.disabled !== undefined) {
    sets.push(
      change.disabled ? 'disabled_at = coalesce(disabled_at, now())' : 'disabled_at = NULL',
    );
  }
  try {
    const { rows } = await db.query<TenantRecord>(
      `UPDATE tenants SET ${sets.length > 0 ? sets.join(', ') : 'name = name'}
       WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0] && tenantOf(rows[0]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return 'name_taken';
    throw error;
  }
}
