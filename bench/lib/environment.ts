import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../../test/support/smtp-sink.js';
import { type AppChild, spawnApp, waitForHealthy } from './app-child.js';
import { readProcessTreeCpuMs } from './proc-cpu.js';
import { readProcessMemory } from './proc-memory.js';

/** The app's defaults, which every baseline copies. */
export const DB_POOL_SIZE = 10;
export const SMTP_POOL_SIZE = 10;

/** PostgreSQL, the SMTP sink and an admin pool: what every scenario runs against. */
export interface BenchEnvironment {
  readonly postgres: TestPostgres;
  readonly sink: SmtpSink;
  /** A plain pg pool of the app's size, for baselines, backlogs and assertions. */
  readonly pool: pg.Pool;
  readonly apiKey: string;
  /** CPU ms used so far by the PostgreSQL server (postmaster and every backend). */
  postgresCpuMs(): number;
  /** The environment of the app process, with `overrides` on top. */
  appEnv(overrides?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchEnvironment(): Promise<BenchEnvironment> {
  const postgres = await startPostgres({
    user: 'selfmx',
    password: randomBytes(12).toString('hex'),
    database: 'selfmx',
  });
  // Plain SMTP on both sides: the figures are about the queue, not about TLS handshakes.
  const sink = await startSmtpSink({ starttls: false });
  const pool = new pg.Pool({ connectionString: postgres.url(), max: DB_POOL_SIZE });
  // An idle connection cut by a PostgreSQL restart must not crash the bench.
  pool.on('error', () => undefined);
  const apiKey = `smx_bench_${randomBytes(24).toString('hex')}`;
  const postmasterPid = Number(
    readFileSync(join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  return {
    postgres,
    sink,
    pool,
    apiKey,
    postgresCpuMs: () => readProcessTreeCpuMs(postmasterPid),
    appEnv: (overrides = {}) => ({
      DATABASE_URL: postgres.url(),
      DB_POOL_SIZE: String(DB_POOL_SIZE),
      API_KEY: apiKey,
      HOST: '127.0.0.1',
      // The rate limiter would otherwise be what the ingest figures measure.
      RATE_LIMIT_REQUESTS: '1000000000',
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS: 'false',
      SMTP_POOL_SIZE: String(SMTP_POOL_SIZE),
      QUEUE_RETRY_DELAY: '1',
      ...overrides,
    }),
    async close() {
      await pool.end().catch(() => undefined);
      await sink.stop().catch(() => undefined);
      await postgres.destroy();
    },
  };
}

export interface RunningService {
  readonly app: AppChild;
  readonly baseUrl: string;
  /** Process spawn to the first /health 200. */
  readonly startupMs: number;
  peakRssMb(): number;
  stop(): Promise<void>;
}

/** Starts `node app/dist/selfmx.js serve` and waits until /health answers 200. */
export async function startService(
  env: BenchEnvironment,
  overrides: Record<string, string> = {},
): Promise<RunningService> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const began = performance.now();
  const app = spawnApp(['serve'], env.appEnv({ PORT: String(port), ...overrides }));
  try {
    const startupMs = await waitForHealthy(app, `${baseUrl}/health`, began);
    return {
      app,
      baseUrl,
      startupMs,
      peakRssMb: () => readProcessMemory(app.pid)?.peakRssMb ?? 0,
      async stop() {
        await app.stop();
      },
    };
  } catch (error) {
    await app.stop(1000);
    throw error;
  }
}
