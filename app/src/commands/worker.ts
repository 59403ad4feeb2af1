import { loadWorkerConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { createPool } from '../db/pool.js';
import { createLogger } from '../logger.js';
import { prepareSchema } from '../migrate/index.js';
import { startQueueWorkers } from '../queue/workers.js';
import { startRetentionPurger } from '../retention/retention-purger.js';
import { startWebhookWorkers } from '../webhooks/webhook-workers.js';
import { describeCommandError } from './command-error.js';
import { boundHeapGrowth } from './heap-growth.js';
import { watchShutdownSignals } from './shutdown-signals.js';
import { allOf } from './stoppable.js';

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
  boundHeapGrowth();
  if (config.queue.workers === 0) {
    throw new ConfigError(
      'QUEUE_WORKERS',
      'must be at least 1 for `selfmx worker` (it only runs workers)',
    );
  }
  const logger = createLogger(config.log, { command: 'worker' });
  const shutdown = watchShutdownSignals((reason) => {
    logger.error(
      { event: 'forced_exit' },
      `${reason}: exiting without waiting for the sends in flight (their leases expire and another worker retries them)`,
    );
    process.exit(1);
  });
  const pool = createPool(config.database, logger);
  try {
    await prepareSchema(config.database, pool, logger);
  } catch (error) {
    const message = describeCommandError(error, config.database);
    logger.error({ event: 'worker_start_failed' }, message);
    console.error(`selfmx worker: ${message}`);
    await pool.end();
    return 1;
  }

  if (shutdown.isRequested()) {
    await pool.end();
    return 0;
  }
  const workers = allOf(
    await startQueueWorkers({ pool, config, logger }),
    startWebhookWorkers({ pool, config: config.webhooks, logger }),
    startRetentionPurger({ pool, retention: config.retention, logger }),
  );
  const signal = await shutdown.requested;
  logger.info({ signal }, 'stopping: finishing the sends in flight');
  await workers.stop();
  await pool.end();
  logger.info('worker stopped');
  return 0;
}
