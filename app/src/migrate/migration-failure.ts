import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationFile } from './migration-files.js';

export type Direction = 'up' | 'down';

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
 * Builds the operator's message: the file and line at fault (from PostgreSQL's error position),
 * the statement's line, PostgreSQL's message and hint, and that nothing was changed.
 */
export async function describeMigrationFailure(
  error: unknown,
  directory: string,
  migration: MigrationFile | undefined,
  direction: Direction,
): Promise<Error> {
  if (!migration || !isPostgresError(error))
    return error instanceof Error ? error : new Error(String(error));
  const where = await locate(error, directory, migration, direction);
  const hint = error.hint ? ` (hint: ${error.hint})` : '';
  const outcome = direction === 'up' ? 'nothing was applied' : 'nothing was reverted';
  return new MigrationFailedError(
    migration.name,
    `migration ${migration.name} failed at ${where}: ${error.message}${hint}; ${outcome} ` +
      '(the run is one transaction and was rolled back). Fix the migration and run again.',
    { cause: error },
  );
}

interface PostgresError {
  message: string;
  code: string;
  position?: string;
  hint?: string;
}

function isPostgresError(error: unknown): error is PostgresError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

/** `path:line` (and the line itself) when PostgreSQL gave a position; the file otherwise. */
async function locate(
  error: PostgresError,
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
