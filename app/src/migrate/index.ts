/** The schema migration mechanism: node-pg-migrate SQL files plus checksums and one shared lock. */
export { AppRolePasswordError } from './app-role-password.js';
export { checkMigrations } from './check-migrations.js';
export { InvalidIndexError } from './invalid-indexes.js';
export { MigrationLintError } from './lint/index.js';
export { MigrationFailedError } from './migration-failure.js';
export { MigrationFilesError } from './migration-files.js';
export { migrationStatus } from './migration-status.js';
export { prepareSchema } from './prepare-schema.js';
export { migrateDown, migrateUp } from './run-migrations.js';
export {
  MigrationIntegrityError,
  type MigrationState,
  PendingMigrationsError,
  verifyMigrations,
} from './verify.js';
