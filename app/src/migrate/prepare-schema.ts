import type { DatabaseSettings } from '../config/database-settings.js';
import type { Logger } from '../logger.js';
import type { Queryable } from './migration-ledger.js';
import { migrateUp } from './run-migrations.js';
import { verifyMigrations } from './verify.js';

/**
 * What `serve` does with the schema before it starts: DB_AUTO_MIGRATE=true migrates
 * under the shared lock; false only checks, read-only, and refuses edited applied migrations or a
 * schema that is behind (the deploy stacks' migration job should have run first).
 */
export async function prepareSchema(
  settings: DatabaseSettings,
  db: Queryable,
  logger: Logger,
): Promise<void> {
  if (settings.autoMigrate) {
    await migrateUp(settings, logger);
    return;
  }
  const state = await verifyMigrations(db);
  if (state.unrecorded.length > 0) {
    logger.warn(
      { migrations: state.unrecorded.map((file) => file.name) },
      'applied migrations without a recorded checksum: run `selfmx migrate` once to record them',
    );
  }
  logger.info(
    { applied: state.applied.length },
    'DB_AUTO_MIGRATE=false: schema verified, migrations are up to date',
  );
}
