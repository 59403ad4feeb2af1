import type pg from 'pg';

/** A pool or a client: the read-only checks work with either. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** node-pg-migrate's own record of applied migrations (in the `public` schema). */
export const MIGRATIONS_TABLE = 'pgmigrations';
/** Ours: the sha256 of each applied migration file, which node-pg-migrate does not keep. */
const CHECKSUMS_TABLE = 'public.selfmx_migration_checksums';

export interface AppliedMigration {
  readonly name: string;
  /** `pgmigrations.run_on` as PostgreSQL prints it (a timestamp without time zone). */
  readonly runOn: string;
}

/** Applied migrations in the order they ran; none when the database was never migrated. */
export async function readAppliedMigrations(db: Queryable): Promise<AppliedMigration[]> {
  if (!(await tableExists(db, `public.${MIGRATIONS_TABLE}`))) return [];
  const { rows } = await db.query<{ name: string; run_on: string }>(
    `SELECT name, run_on::text AS run_on FROM public.${MIGRATIONS_TABLE} ORDER BY run_on, id`,
  );
  return rows.map((row) => ({ name: row.name, runOn: row.run_on }));
}

/** Recorded checksums by migration name. */
export async function readChecksums(db: Queryable): Promise<Map<string, string>> {
  if (!(await tableExists(db, CHECKSUMS_TABLE))) return new Map();
  const { rows } = await db.query<{ name: string; sha256: string }>(
    `SELECT name, sha256 FROM ${CHECKSUMS_TABLE}`,
  );
  return new Map(rows.map((row) => [row.name, row.sha256]));
}

/**
 * Idempotent; called under the migration lock, so concurrent jobs never race on it. Checks first:
 * even CREATE TABLE IF NOT EXISTS needs the CREATE privilege, which the app role lacks.
 */
export async function ensureChecksumTable(db: Queryable): Promise<void> {
  if (await tableExists(db, CHECKSUMS_TABLE)) return;
  await db.query(`
    CREATE TABLE IF NOT EXISTS ${CHECKSUMS_TABLE} (
      name        text PRIMARY KEY,
      sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
}

export async function recordChecksums(
  db: Queryable,
  migrations: readonly { name: string; sha256: string }[],
): Promise<void> {
  if (migrations.length === 0) return;
  await db.query(
    `INSERT INTO ${CHECKSUMS_TABLE} (name, sha256)
     SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()`,
    [migrations.map((m) => m.name), migrations.map((m) => m.sha256)],
  );
}

export async function forgetChecksums(db: Queryable, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await db.query(`DELETE FROM ${CHECKSUMS_TABLE} WHERE name = ANY($1::text[])`, [names]);
}

async function tableExists(db: Queryable, qualifiedName: string): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>(
    'SELECT to_regclass($1) IS NOT NULL AS exists',
    [qualifiedName],
  );
  return rows[0]?.exists === true;
}
