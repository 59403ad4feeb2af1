/**
 * A queue-worker process for the crash tests: `node --import tsx worker-child.ts '<json>'`.
 * Runs startQueueWorkers with test tuning (a short lease) and prints "ready" once started;
 * SIGTERM stops it gracefully. The JSON is { databaseUrl, queue, smtp, tuning }.
 */
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { createPool } from '../../app/src/db/pool.js';
import { createLogger } from '../../app/src/logger.js';
import { startQueueWorkers } from '../../app/src/queue/workers.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const pool = createPool(parseDatabaseSettings({ DATABASE_URL: options.databaseUrl }));
const workers = await startQueueWorkers({
  pool,
  config: { queue: options.queue, smtp: options.smtp },
  logger: createLogger({ level: 'warn', format: 'json' }),
  tuning: options.tuning,
});
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await workers.stop();
  await pool.end();
  process.exit(0);
});
