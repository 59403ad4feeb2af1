import { join } from 'node:path';
import {
  locateMigrationsDirectory,
  type MigrationFile,
  readMigrationFiles,
} from './migration-files.js';
import {
  type AppliedMigration,
  type Queryable,
  readAppliedMigrations,
  readChecksums,
} from './migration-ledger.js';

/** How an applied migration compares with its file. */
export type AppliedCheck = 'verified' | 'edited' | 'missing' | 'unrecorded';

export interface MigrationState {
  readonly directory: string;
  /** Every migration file, in apply order. */
  readonly files: readonly MigrationFile[];
  readonly applied: readonly (AppliedMigration & { readonly check: AppliedCheck })[];
  /** Migrations with a file but not applied, in apply order. */
  readonly pending: readonly MigrationFile[];
  /** Applied before SelfMX kept checksums: the current file's checksum can be recorded. */
  readonly unrecorded: readonly MigrationFile[];
  /** One line per problem, each naming the file at fault; empty when all is well. */
  readonly problems: readonly string[];
}

const NEVER_EDIT =
  'Restore the applied migration files exactly as they were applied (e.g. `git checkout <release> ' +
  '-- migrations/`). Never edit, rename or delete a migration once it has been applied: add a ' +
  'new migration instead. If a newer SelfMX release migrated this database, run that release ' +
  '(or its `migrate down`) rather than this one.';

/** The migration files do not match what the database applied; nothing was changed. */
export class MigrationIntegrityError extends Error {
  override readonly name = 'MigrationIntegrityError';
  constructor(readonly problems: readonly string[]) {
    super(
      `the migration files do not match the database:\n${problems.map((p) => `  - ${p}`).join('\n')}\n${NEVER_EDIT}`,
    );
  }
}

/** serve with DB_AUTO_MIGRATE=false found migrations that the migration job has not applied. */
export class PendingMigrationsError extends Error {
  override readonly name = 'PendingMigrationsError';
  constructor(readonly pending: readonly string[]) {
    super(
      `the database schema is behind: ${pending.length} pending migration(s) (${pending.join(', ')}). ` +
        'Run the migration job (`selfmx migrate`) before starting serve, or set DB_AUTO_MIGRATE=true.',
    );
  }
}

/** Compares the migration files with the database's record of applied migrations. */
export function compareMigrations(
  directory: string,
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
  checksums: ReadonlyMap<string, string>,
): MigrationState {
  const fileByName = new Map(files.map((file) => [file.name, file]));
  const appliedNames = new Set(applied.map((migration) => migration.name));
  const problems: string[] = [];
  const unrecorded: MigrationFile[] = [];

  const checked = applied.map((migration) => {
    const file = fileByName.get(migration.name);
    const recorded = checksums.get(migration.name);
    let check: AppliedCheck = 'verified';
    if (!file) {
      check = 'missing';
      problems.push(
        `${migration.name} was applied on ${migration.runOn} but ${join(directory, `${migration.name}.sql`)} ` +
          'no longer exists (deleted or renamed)',
      );
    } else if (recorded === undefined) {
      check = 'unrecorded';
      unrecorded.push(file);
    } else if (recorded !== file.sha256) {
      check = 'edited';
      problems.push(
        `${paths(directory, file)} was edited after it was applied on ${migration.runOn} ` +
          `(sha256 then ${recorded.slice(0, 12)}…, now ${file.sha256.slice(0, 12)}…)`,
      );
    }
    return { ...migration, check };
  });

  const pending = files.filter((file) => !appliedNames.has(file.name));
  const lastApplied = [...appliedNames].sort().at(-1);
  for (const file of pending) {
    if (lastApplied !== undefined && file.name < lastApplied) {
      problems.push(
        `${paths(directory, file)} is not applied but sorts before the applied migration ` +
          `${lastApplied}; give it a timestamp after ${lastApplied.slice(0, 13)} (if it was renamed ` +
          'from an applied migration, restore the old name)',
      );
    }
  }
  return { directory, files, applied: checked, pending, unrecorded, problems };
}

/** Reads the files and the database's record, and compares them. Read-only. */
export async function inspectMigrations(db: Queryable, directory: string): Promise<MigrationState> {
  const files = await readMigrationFiles(directory);
  // One after the other: `db` may be a single client, which runs one query at a time.
  const applied = await readAppliedMigrations(db);
  const checksums = await readChecksums(db);
  return compareMigrations(directory, files, applied, checksums);
}

/**
 * The read-only start-up check for `serve` with DB_AUTO_MIGRATE=false: refuses applied migrations
 * whose files were edited, renamed or deleted and, unless `allowPending`, a schema that is behind.
 */
export async function verifyMigrations(
  db: Queryable,
  options: { allowPending?: boolean } = {},
): Promise<MigrationState> {
  const state = await inspectMigrations(db, await locateMigrationsDirectory());
  if (state.problems.length > 0) throw new MigrationIntegrityError(state.problems);
  if (state.pending.length > 0 && !options.allowPending) {
    throw new PendingMigrationsError(state.pending.map((file) => file.name));
  }
  return state;
}

function paths(directory: string, file: MigrationFile): string {
  return file.files.map((name) => join(directory, name)).join(' + ');
}
