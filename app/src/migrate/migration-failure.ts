import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { LOCK_WAIT_FIX } from '../db/session-limits.js';
import type { MigrationFile } from './migration-files.js';

export type Direction = 'up' | 'down';

/** SQLSTATE of a lock wait cut short by lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/** A migration's SQL failed; the whole run was rolled back (one transaction). */
export class MigrationFailedError extends Error {
  override readonly name = 'MigrationFailedError';
  constructor(
    readonly migration: string,
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Builds the operator's message. A server error in a migration's SQL names the file and line (from
 * PostgreSQL's error position), the line, PostgreSQL's message and hint; node-pg-migrate's own
 * refusals (e.g. no Down section) are reworded; connection errors are returned as they are, for
 * explainDatabaseError.
 */
export async function describeMigrationFailure(
  error: unknown,
  directory: string,
  migration: MigrationFile | undefined,
  direction: Direction,
  lockTimeoutSeconds: number,
): Promise<Error> {
  const outcome = `${direction === 'up' ? 'nothing was applied' : 'nothing was reverted'} (the run is one transaction and was rolled back)`;
  if (error instanceof pg.DatabaseError) {
    if (!migration) return error;
    if (error.code === LOCK_NOT_AVAILABLE) {
      return new MigrationFailedError(
        migration.name,
        `migration ${migration.name} timed out waiting for a lock (${error.message}): another session held a lock on a table it changes for longer than DB_MIGRATION_LOCK_TIMEOUT=${lockTimeoutSeconds}s; ${outcome}. ${LOCK_WAIT_FIX}`,
        { cause: error },
      );
    }
    const where = await locate(error, directory, migration, direction);
    const hint = error.hint ? ` (hint: ${error.hint})` : '';
    return new MigrationFailedError(
      migration.name,
      `migration ${migration.name} failed at ${where}: ${error.message}${hint}; ${outcome}. Fix the migration and run again.`,
      { cause: error },
    );
  }
  // Socket and TLS errors carry a code: they are connection problems.
  if (!(error instanceof Error) || typeof (error as { code?: unknown }).code === 'string') {
    return error instanceof Error ? error : new Error(String(error));
  }
  const noDown = /disabled down migration on file: (\S+)/.exec(error.message);
  if (noDown) {
    return new MigrationFailedError(
      noDown[1] ?? '',
      `migration ${noDown[1]} has no "-- Down Migration" section, so it cannot be reverted; ${outcome}`,
      { cause: error },
    );
  }
  return new MigrationFailedError(
    migration?.name ?? '',
    `node-pg-migrate: ${error.message}; ${outcome}`,
    {
      cause: error,
    },
  );
}

/** `path:line` (and the line itself) when PostgreSQL gave a position; the file otherwise. */
async function locate(
  error: pg.DatabaseError,
  directory: string,
  migration: MigrationFile,
  direction: Direction,
): Promise<string> {
  // A single file holds both sections; a pair has one file per direction.
  const file =
    migration.files.length === 2 && direction === 'down' ? migration.files[1] : migration.files[0];
  const path = join(directory, file ?? `${migration.name}.sql`);
  const position = Number(error.position);
  if (!file || !Number.isInteger(position) || position < 1) return path;
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === undefined) return path;
  // node-pg-migrate runs a section from its marker comment on, unchanged (see its sqlMigration).
  const marker = migration.files.length === 1 ? content.search(sectionMarker(direction)) : -1;
  const offset = Math.max(marker, 0) + position - 1;
  const lines = content.slice(0, offset).split('\n');
  const lineNumber = lines.length;
  const lineText = content.split('\n')[lineNumber - 1]?.trim() ?? '';
  return `${path}:${lineNumber} (\`${lineText}\`)`;
}

function sectionMarker(direction: Direction): RegExp {
  return new RegExp(`^\\s*--[\\s-]*${direction}\\s+migration`, 'im');
}
