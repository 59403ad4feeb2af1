import { loadWorkerConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { explainDatabaseError } from '../db/explain-error.js';
import { createPool } from '../db/pool.js';
import { createLogger } from '../logger.js';
import {
  MigrationFailedError,
  MigrationFilesError,
  MigrationIntegrityError,
  PendingMigrationsError,
  prepareSchema,
} from '../migrate/index.js';
import { startQueueWorkers } from '../queue/workers.js';

const USAGE =
  'usage: selfmx worker   (queue workers only, no HTTP API; configured by DATABASE_URL, DB_*, QUEUE_*, SMTP_*)';

/**
 * `selfmx worker`: QUEUE_WORKERS queue workers and no API, for scaling delivery apart from the
 * API. Needs no API_KEY. Migrates first when DB_AUTO_MIGRATE=true, otherwise refuses a schema that
 * the migration job has not brought up to date. SIGTERM/SIGINT finish the sends in flight, then
 * exit 0; a second signal exits at once (the leases of unfinished sends expire and they are
 * retried by another worker).
 */
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 0) {
    console.error(`selfmx worker: unexpected argument "${args[0]}"\n${USAGE}`);
    return 2;
  }
  const config = loadWorkerConfig(process.env);
  if (config.queue.workers === 0) {
    throw new ConfigError(
      'QUEUE_WORKERS',
      'must be at least 1 for `selfmx worker` (it only runs workers)',
    );
  }
  const logger = createLogger(config.log, { command: 'worker' });
  const pool = createPool(config.database, logger);
  try {
    await prepareSchema(config.database, pool, logger);
  } catch (error) {
    const message = describeStartupError(error, config.database);
    logger.error({ event: 'worker_start_failed' }, message);
    console.error(`selfmx worker: ${message}`);
    await pool.end();
    return 1;
  }

  const workers = await startQueueWorkers({ pool, config, logger });
  const signal = await nextShutdownSignal();
  logger.info({ signal }, 'stopping: finishing the sends in flight');
  process.once('SIGTERM', forceExit);
  process.once('SIGINT', forceExit);
  await workers.stop();
  await pool.end();
  logger.info('worker stopped');
  return 0;
}

function nextShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

function forceExit(): void {
  console.error('selfmx worker: second signal, exiting without waiting for the sends in flight');
  process.exit(1);
}

/** Migration problems explain themselves; anything else is about reaching the database. */
export function describeStartupError(
  error: unknown,
  settings: Parameters<typeof explainDatabaseError>[1],
): string {
  const migrationErrors = [
    MigrationFailedError,
    MigrationFilesError,
    MigrationIntegrityError,
    PendingMigrationsError,
  ];
  if (migrationErrors.some((type) => error instanceof type)) return (error as Error).message;
  return explainDatabaseError(error, settings);
}
