import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { freePort } from '../../test/support/postgres.js';
import { type EmailJob, startBoss } from '../peers/diy-pg-boss/peer-boss.js';
import {
  addApiKey,
  BOSS_SCHEMA,
  EMAIL_QUEUE,
  ensureKeyTable,
} from '../peers/diy-pg-boss/peer-schema.js';
import { type AppChild, spawnTsScript, waitForHealthy } from './app-child.js';
import { type BenchEnvironment, DB_POOL_SIZE, SMTP_POOL_SIZE } from './environment.js';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleRecipient,
} from './sample-email.js';

const PEER_SERVER = fileURLToPath(new URL('../peers/diy-pg-boss/server.ts', import.meta.url));
const BACKLOG_CHUNK = 1000;

export const PG_BOSS_VERSION = (
  createRequire(import.meta.url)('pg-boss/package.json') as { version: string }
).version;

export interface RunningPeer {
  readonly app: AppChild;
  readonly baseUrl: string;
  /** Starts the peer's delivery loops (it waits for SIGUSR2 when started with workers). */
  startWorkers(): void;
  stop(): Promise<void>;
}

/**
 * The DIY pg-boss peer as a child process on the bench's PostgreSQL (its own schemas), SMTP
 * sink and pool sizes, answering the bench's API key.
 */
export async function startPeer(env: BenchEnvironment, workers: number): Promise<RunningPeer> {
  await ensureKeyTable(env.pool);
  await addApiKey(env.pool, 'bench', env.apiKey);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const app = spawnTsScript(PEER_SERVER, {
    DATABASE_URL: env.postgres.url(),
    DB_POOL_SIZE: String(DB_POOL_SIZE),
    HOST: '127.0.0.1',
    PORT: String(port),
    SMTP_HOST: env.sink.host,
    SMTP_PORT: String(env.sink.port),
    SMTP_POOL_SIZE: String(SMTP_POOL_SIZE),
    WORKERS: String(workers),
    WORKERS_ON_SIGNAL: '1',
  });
  try {
    await waitForHealthy(app, `${baseUrl}/health`, performance.now());
  } catch (error) {
    await app.stop(1000);
    throw error;
  }
  return {
    app,
    baseUrl,
    startWorkers: () => app.child.kill('SIGUSR2'),
    async stop() {
      await app.stop();
    },
  };
}

/** Enqueues `count` sample emails as pg-boss jobs through pg-boss's own insert(). */
export async function enqueuePeerBacklog(pool: pg.Pool, count: number): Promise<void> {
  const boss = await startBoss(pool, false);
  try {
    for (let first = 0; first < count; first += BACKLOG_CHUNK) {
      const size = Math.min(BACKLOG_CHUNK, count - first);
      await boss.insert(
        Array.from({ length: size }, (_, i) => {
          const data: EmailJob = {
            from: SAMPLE_FROM,
            to: [sampleRecipient(first + i)],
            subject: SAMPLE_SUBJECT,
            html: SAMPLE_HTML,
            text: SAMPLE_TEXT,
          };
          return { name: EMAIL_QUEUE, data };
        }),
      );
    }
  } finally {
    await boss.stop({ graceful: false });
  }
}

export async function clearPeerJobs(pool: pg.Pool): Promise<void> {
  await pool.query(`TRUNCATE ${BOSS_SCHEMA}.job`);
}

/** Waits until pg-boss shows `count` jobs completed (the sink's 250 comes first). */
export async function waitForCompletedPeerJobs(
  pool: pg.Pool,
  count: number,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND state = 'completed'`,
      [EMAIL_QUEUE],
    );
    const completed = rows[0]?.n ?? 0;
    if (completed >= count || Date.now() > deadline) return completed;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
