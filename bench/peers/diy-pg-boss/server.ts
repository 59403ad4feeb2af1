import { once } from 'node:events';
import pg from 'pg';
import { createPlainSmtpTransport } from '../../lib/plain-smtp-transport.js';
import { startEmailWorkers } from './email-workers.js';
import { buildPeerApi } from './peer-api.js';
import { startBoss } from './peer-boss.js';
import { ensureKeyTable } from './peer-schema.js';
import { readPeerSettings } from './settings.js';

/**
 * The DIY alternative to SelfMX the bench compares it with: Fastify enqueueing into pg-boss,
 * pg-boss workers sending through nodemailer. Run: node --import tsx server.ts (see settings.ts).
 */
async function main(): Promise<void> {
  const settings = readPeerSettings(process.env);
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: settings.dbPoolSize });
  pool.on('error', (error) => console.error(`pg pool: ${error.message}`));
  await ensureKeyTable(pool);
  const boss = await startBoss(pool);
  // The SMTP transport SelfMX uses, with the same pool size and timeouts, on plain SMTP.
  const transport = createPlainSmtpTransport(
    settings.smtpHost,
    settings.smtpPort,
    settings.smtpPoolSize,
  );

  const api = buildPeerApi(pool, boss);
  await api.listen({ host: settings.host, port: settings.port });

  let workers: { stop(): Promise<void> } | undefined;
  const startWorkers = () => {
    workers ??= startEmailWorkers(boss, transport, settings.workers);
  };
  if (settings.workers > 0) {
    if (settings.workersOnSignal) process.once('SIGUSR2', startWorkers);
    else startWorkers();
  }

  await once(process, 'SIGTERM');
  await api.close();
  await workers?.stop();
  await boss.stop({ graceful: false });
  transport.close();
  await pool.end();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
