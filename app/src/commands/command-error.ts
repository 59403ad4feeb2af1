import { explainDatabaseError } from '../db/explain-error.js';
import {
  AppRolePasswordError,
  InvalidIndexError,
  MigrationFailedError,
  MigrationFilesError,
  MigrationIntegrityError,
  MigrationLintError,
  PendingMigrationsError,
} from '../migrate/index.js';

const MIGRATION_ERRORS = [
  AppRolePasswordError,
  InvalidIndexError,
  MigrationLintError,
  MigrationFailedError,
  MigrationFilesError,
  MigrationIntegrityError,
  PendingMigrationsError,
];

/**
 * Why a command (serve or worker starting, a migrate run) failed: migration problems explain
 * themselves; anything else is about reaching the database.
 */
export function describeCommandError(
  error: unknown,
  settings: Parameters<typeof explainDatabaseError>[1],
): string {
  if (MIGRATION_ERRORS.some((type) => error instanceof type)) return (error as Error).message;
  return explainDatabaseError(error, settings);
}
