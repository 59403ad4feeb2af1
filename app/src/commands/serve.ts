import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { ensureBootstrapKey } from '../auth/bootstrap-key.js';
import type { SmtpConfig } from '../config/app-config.js';
import { loadServiceConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { createPool } from '../db/pool.js';
import { buildServer } from '../http/server.js';
import type { SmtpProbe } from '../http/server-deps.js';
import { createLogger, type Logger } from '../logger.js';
import { prepareSchema } from '../migrate/index.js';
import { startQueueWorkers } from '../queue/workers.js';
import { startRetentionPurger } from '../retention/retention-purger.js';
import { smtpHealth } from '../smtp/smtp-health.js';
import { verifySmtp } from '../smtp/verify.js';
import { startWebhookWorkers } from '../webhooks/webhook-workers.js';
import { describeCommandError } from './command-error.js';
import { boundHeapGrowth } from './heap-growth.js';
import { watchShutdownSignals } from './shutdown-signals.js';
import { allOf, type Stoppable } from './stoppable.js';

const USAGE = 'usage: selfmx serve   (HTTP API and queue workers; configured by the environment)';
// Orchestrators wait 10 s (Docker) or longer before SIGKILL; finish well inside that.
const SHUTDOWN_DEADLINE_MS = 9_000;

/**
 * `selfmx serve`: migrates (DB_AUTO_MIGRATE=true, under the migration job's lock) or verifies
 * the schema, makes API_KEY the bootstrap admin key, starts QUEUE_WORKERS workers and the API
 * on HOST:PORT. SIGTERM/SIGINT: stop accepting, finish in-flight requests and sends, close the
 * pool, exit 0; past the deadline (or on a second signal) exit 1 at once.
 */
export async function run(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('help')) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 0) {
    console.error(`selfmx serve: unexpected argument "${args[0]}"\n${USAGE}`);
    return 2;
  }
  const config = loadServiceConfig(process.env);
  boundHeapGrowth();
  const logger = createLogger(config.log, { command: 'serve' });
  const shutdown = watchShutdownSignals((reason) => forceExit(logger, reason));
  const pool = createPool(config.database, logger);
  try {
    await prepareSchema(config.database, pool, logger);
    await ensureBootstrapKey(pool, config.apiKey, logger);
  } catch (error) {
    await pool.end();
    if (error instanceof ConfigError) throw error;
    const message = describeCommandError(error, config.database);
    logger.error({ event: 'serve_start_failed' }, message);
    console.error(`selfmx serve: ${message}`);
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
  const app = await buildServer({ pool, config, logger, smtp: smtpProbe(config.smtp) });
  try {
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error(
      { event: 'serve_start_failed' },
      `cannot listen on ${config.http.host}:${config.http.port}: ${reason}`,
    );
    await shutDown(app, workers, pool);
    return 1;
  }

  const signal = await shutdown.requested;
  logger.info({ signal }, 'stopping: no new connections, finishing in-flight requests and sends');
  const deadline = setTimeout(
    () => forceExit(logger, 'shutdown deadline passed'),
    SHUTDOWN_DEADLINE_MS,
  );
  deadline.unref();
  await shutDown(app, workers, pool);
  clearTimeout(deadline);
  logger.info('SelfMX stopped');
  return 0;
}

/** In order: the HTTP server (waits for in-flight requests), the workers, then the pool. */
async function shutDown(app: FastifyInstance, workers: Stoppable, pool: pg.Pool): Promise<void> {
  await app.close();
  app.log.info('http server closed');
  await workers.stop();
  await pool.end();
  app.log.info('database pool closed');
}

function smtpProbe(config: SmtpConfig): SmtpProbe {
  return {
    status: () => smtpHealth().status,
    async verify() {
      const result = await verifySmtp(config);
      if (!result.ok) throw new Error(result.error);
    },
  };
}

function forceExit(logger: Logger, why: string): void {
  logger.error({ event: 'forced_exit' }, `${why}: exiting without waiting for in-flight work`);
  process.exit(1);
}
