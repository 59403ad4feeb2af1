import type { DatabaseSettings } from '../config/database-settings.js';
import { connectClient } from '../db/pool.js';
import { locateMigrationsDirectory } from './migration-files.js';
import { MIGRATE_APPLICATION_NAME } from './migration-lock.js';
import { inspectMigrations, type MigrationState } from './verify.js';

/**
 * Applied (with run_on and whether the file still matches) and pending migrations. Read-only and
 * without the lock: it reports problems instead of refusing.
 */
export async function migrationStatus(settings: DatabaseSettings): Promise<MigrationState> {
  const directory = await locateMigrationsDirectory();
  const client = await connectClient(settings, MIGRATE_APPLICATION_NAME, () => undefined);
  try {
    return await inspectMigrations(client, directory);
  } finally {
    await client.end();
  }
}
