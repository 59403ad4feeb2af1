import type pg from 'pg';

/**
 * A tenant's suppression list. Addresses are stored and compared by selfmx_address_key (bare
 * address, domain in lower case); the outbox triggers of the suppressions table write the
 * suppression.added and suppression.removed webhook events in the same statement.
 */

type Queryable = pg.Pool | pg.PoolClient;

export interface SuppressionRow {
  id: string;
  email: string;
  origin: 'bounce' | 'manual';
  source_id: string | null;
  reason: string;
  created_at: Date;
}

const COLUMNS = 'id, email, origin, source_id, reason, created_at';

export async function listSuppressions(
  db: Queryable,
  tenantId: string,
  page: { limit: number; after?: string | undefined; origin?: string | undefined },
): Promise<{ rows: SuppressionRow[]; hasMore: boolean }> {
  const { rows } = await db.query<SuppressionRow>(
    `SELECT ${COLUMNS} FROM suppressions
      WHERE tenant_id = $1 AND ($4::text IS NULL OR origin = $4)
        AND ($3::uuid IS NULL OR (created_at, id) < (
              SELECT created_at, id FROM suppressions WHERE tenant_id = $1 AND id = $3))
      ORDER BY created_at DESC, id DESC
      LIMIT $2 + 1`,
    [tenantId, page.limit, page.after ?? null, page.origin ?? null],
  );
  return { rows: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

/** The entry for an address (any case in the domain) or an entry id. */
export async function findSuppression(
  db: Queryable,
  tenantId: string,
  idOrEmail: string,
): Promise<SuppressionRow | undefined> {
  const { rows } = await db.query<SuppressionRow>(
    `SELECT ${COLUMNS} FROM suppressions WHERE tenant_id = $1 AND ${MATCHES}`,
    [tenantId, idOrEmail],
  );
  return rows[0];
}

/** Adds an address by hand; an address already on the list keeps its entry (`added` false). */
export async function addSuppression(
  db: Queryable,
  tenantId: string,
  email: string,
  reason: string,
): Promise<{ row: SuppressionRow; added: boolean }> {
  const { rows } = await db.query<SuppressionRow>(
    `INSERT INTO suppressions (tenant_id, email, origin, reason)
     VALUES ($1, selfmx_address_key($2), 'manual', $3)
     ON CONFLICT (tenant_id, email) DO NOTHING
     RETURNING ${COLUMNS}`,
    [tenantId, email, reason],
  );
  if (rows[0]) return { row: rows[0], added: true };
  const existing = await findSuppression(db, tenantId, email);
  if (!existing) throw new Error(`suppression of ${email} vanished while being added`);
  return { row: existing, added: false };
}

export async function removeSuppression(
  db: Queryable,
  tenantId: string,
  idOrEmail: string,
): Promise<SuppressionRow | undefined> {
  const { rows } = await db.query<SuppressionRow>(
    `DELETE FROM suppressions WHERE tenant_id = $1 AND ${MATCHES} RETURNING ${COLUMNS}`,
    [tenantId, idOrEmail],
  );
  return rows[0];
}

/** $2 is an entry's id or an address. */
const MATCHES = `(CASE WHEN $2 ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                      THEN id = $2::uuid ELSE email = selfmx_address_key($2) END)`;
