import type { Queryable } from './migration-ledger.js';

/**
 * An index left INVALID by a CREATE INDEX CONCURRENTLY that failed halfway (e.g. a duplicate
 * key, a lock timeout, or a killed job): it costs writes and serves no reads, and running the
 * migration again would fail on its name (or, with IF NOT EXISTS, silently keep it).
 */
export class InvalidIndexError extends Error {
  override readonly name = 'InvalidIndexError';
  constructor(readonly indexes: readonly string[]) {
    super(
      `invalid index(es) left by a CREATE INDEX CONCURRENTLY that failed: ${indexes.join(', ')}. ` +
        `Drop each one (${indexes.map((name) => `DROP INDEX CONCURRENTLY ${name};`).join(' ')}), ` +
        "fix what made it fail (see the failed run's error), then run `selfmx migrate` again; " +
        'nothing was applied.',
    );
  }
}

/** Invalid indexes outside the system schemas, schema-qualified. */
export async function findInvalidIndexes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}
