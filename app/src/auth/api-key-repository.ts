import type pg from 'pg';
import type { Permission } from './permissions.js';

/**
 * The api_keys table: the tenant's key management. Authentication finds keys by hash in
 * rate-limit/authenticate-and-count.ts, in the same statement that counts the request.
 */

type Queryable = pg.Pool | pg.PoolClient;

/** The authenticated caller, as the request handlers see it. */
export interface ApiKeyIdentity {
  id: string;
  tenantId: string;
  permissions: string[];
  isBootstrap: boolean;
  keyHash: Buffer;
  lastUsedAt: Date | null;
  /** The key belongs to the operator's tenant (the one API_KEY belongs to). */
  isOperatorTenant: boolean;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  permissions: string[];
  is_bootstrap: boolean;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, prefix, permissions, is_bootstrap, created_at, last_used_at, revoked_at';

/**
 * Records that a key was used. At most one write per key per minute, so that busy keys do not
 * turn every request into an UPDATE of the same row.
 */
export async function touchLastUsed(db: Queryable, key: ApiKeyIdentity): Promise<void> {
  if (key.lastUsedAt && Date.now() - key.lastUsedAt.getTime() < 60_000) return;
  // An identity shared by several requests (a remembered key) then skips the next minute's.
  key.lastUsedAt = new Date();
  await db.query(
    `UPDATE api_keys SET last_used_at = now()
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')`,
    [key.id],
  );
}

/**
 * The tenant's live (unrevoked) keys, counted under a lock on the tenant row that is held until
 * the transaction ends, so that concurrent creations cannot all pass a cap check together.
 */
export async function countLiveKeysForUpdate(
  client: pg.PoolClient,
  tenantId: string,
): Promise<number> {
  await client.query('SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
  const { rows } = await client.query<{ live: number }>(
    'SELECT count(*)::int AS live FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL',
    [tenantId],
  );
  return rows[0]?.live ?? 0;
}

export async function insertApiKey(
  db: Queryable,
  key: {
    tenantId: string;
    name: string;
    prefix: string;
    hash: Buffer;
    permissions: readonly Permission[];
  },
): Promise<ApiKeyRow> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, permissions)
     VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [key.tenantId, key.name, key.prefix, key.hash, key.permissions],
  );
  return rows[0] as ApiKeyRow;
}

export async function listApiKeys(
  db: Queryable,
  tenantId: string,
  options: { includeRevoked: boolean; limit: number; offset: number },
): Promise<{ rows: ApiKeyRow[]; total: number }> {
  const where = `tenant_id = $1 AND ($2 OR revoked_at IS NULL)`;
  const [list, count] = await Promise.all([
    db.query<ApiKeyRow>(
      `SELECT ${COLUMNS} FROM api_keys WHERE ${where}
       ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`,
      [tenantId, options.includeRevoked, options.limit, options.offset],
    ),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM api_keys WHERE ${where}`, [
      tenantId,
      options.includeRevoked,
    ]),
  ]);
  return { rows: list.rows, total: count.rows[0]?.total ?? 0 };
}

export async function findApiKey(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<ApiKeyRow | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0];
}

/** Revokes a live key; false when there is no such live key in the tenant. */
export async function revokeApiKey(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE api_keys SET revoked_at = now()
     WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [tenantId, id],
  );
  return (rowCount ?? 0) > 0;
}
