import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import type { DatabaseSettings } from '../config/database-settings.js';
import type { Logger } from '../logger.js';
import { APP_ROLE, type AppRoleLogin, enableAppRole } from './app-role-password.js';
import { refuseUnsafeMigrations } from './check-migrations.js';
import { type Direction, describeMigrationFailure } from './migration-failure.js';
import { locateMigrationsDirectory } from './migration-files.js';
import {
  ensureChecksumTable,
  forgetChecksums,
  MIGRATIONS_TABLE,
  recordChecksums,
} from './migration-ledger.js';
import { withMigrationLock } from './migration-lock.js';
import { pgMigrateLogger } from './pg-migrate-logger.js';
import { sqlMigrationLoader } from './sql-migration-loader.js';
import { inspectMigrations, MigrationIntegrityError, type MigrationState } from './verify.js';

/**
 * Applies every pending migration in one transaction, under the migration lock, after checking
 * that the applied migrations' files are unchanged. Returns the names applied (none: up to date).
 */
export async function migrateUp(
  settings: DatabaseSettings,
  logger: Logger,
  options: MigrateUpOptions = {},
): Promise<string[]> {
  return underLock(settings, logger, async (client, state) => {
    const names = await applyPending(client, state, settings, logger);
    if (options.appRole !== undefined) {
      const { user } = options.appRole;
      await enableAppRole(client, options.appRole, settings);
      logger.info(
        { event: 'app_role_password_set', role: user, group: APP_ROLE },
        `role ${user} (a member of ${APP_ROLE}) may log in with the password from APP_DB_PASSWORD`,
      );
    }
    return names;
  });
}

export interface MigrateUpOptions {
  /** APP_DB_USER and APP_DB_PASSWORD: set as that member's password once the migrations are applied. */
  readonly appRole?: AppRoleLogin;
}

async function applyPending(
  client: pg.Client,
  state: MigrationState,
  settings: DatabaseSettings,
  logger: Logger,
): Promise<string[]> {
  if (state.pending.length === 0) {
    logger.info({ applied: state.applied.length }, 'nothing to migrate: the schema is up to date');
    return [];
  }
  await refuseUnsafeMigrations(client, state, logger);
  const names = await run(
    client,
    state,
    'up',
    state.pending.length,
    logger,
    settings.migrationLockTimeoutSeconds,
  );
  const applied = state.pending.filter((file) => names.includes(file.name));
  // After the runner's COMMIT, still under the lock. Should this process die in between, the
  // next run finds them applied without a checksum and records them then (see underLock).
  await recordChecksums(client, applied);
  logger.info({ migrations: names }, `applied ${names.length} migration(s)`);
  return names;
}

/** Reverts the last `count` applied migrations (newest first), in one transaction. */
export async function migrateDown(
  settings: DatabaseSettings,
  count: number,
  logger: Logger,
): Promise<string[]> {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`migrate down: count must be a positive whole number (got ${count})`);
  }
  return underLock(settings, logger, async (client, state) => {
    if (state.applied.length === 0) {
      logger.info('nothing to revert: no migration is applied');
      return [];
    }
    const names = await run(
      client,
      state,
      'down',
      count,
      logger,
      settings.migrationLockTimeoutSeconds,
    );
    await forgetChecksums(client, names);
    logger.info({ migrations: names }, `reverted ${names.length} migration(s)`);
    return names;
  });
}

/** Takes the lock, then refuses to go on if applied files were edited, renamed or deleted. */
async function underLock<T>(
  settings: DatabaseSettings,
  logger: Logger,
  work: (client: pg.Client, state: MigrationState) => Promise<T>,
): Promise<T> {
  const directory = await locateMigrationsDirectory();
  logger.info({ database: settings.redactedUrl, directory }, 'checking migrations');
  return withMigrationLock(settings, logger, async (client) => {
    await ensureChecksumTable(client);
    const state = await inspectMigrations(client, directory);
    if (state.problems.length > 0) throw new MigrationIntegrityError(state.problems);
    if (state.unrecorded.length > 0) {
      // Applied before SelfMX kept checksums: trust the files as they are now, from here on.
      await recordChecksums(client, state.unrecorded);
      logger.warn(
        { migrations: state.unrecorded.map((file) => file.name) },
        'recorded checksums of migrations applied before checksums were kept',
      );
    }
    return work(client, state);
  });
}

/** node-pg-migrate on our locked connection, SQL files only, all-or-nothing. */
async function run(
  client: pg.Client,
  state: MigrationState,
  direction: Direction,
  count: number,
  logger: Logger,
  lockTimeoutSeconds: number,
): Promise<string[]> {
  const log = pgMigrateLogger(logger);
  try {
    const ran = await runner({
      dbClient: client,
      dir: state.directory,
      migrationsTable: MIGRATIONS_TABLE,
      migrationLoaderStrategies: [{ extensions: ['.sql'], loader: sqlMigrationLoader }],
      direction,
      count,
      checkOrder: true,
      // Not the runner's default despite its docs: without it each migration commits on its own.
      singleTransaction: true,
      // Our own lock is already held on this connection; theirs only guards against other tools.
      advisoryLockMode: 'wait',
      logger: log,
    });
    return ran.map((migration) => migration.name);
  } catch (error) {
    const failed = state.files.find((file) => file.name === log.current());
    throw await describeMigrationFailure(
      error,
      state.directory,
      failed,
      direction,
      lockTimeoutSeconds,
    );
  }
}
