import pg from 'pg';
import { APPLICATION_NAME } from '../app/src/db/pool.js';
import { startBenchEnvironment } from './lib/environment.js';
import { sampleLockWaits } from './lib/lock-waits.js';
import { prepareBacklogTemplate } from './lib/template-email.js';
import { sampleWaitEvents } from './lib/wait-events.js';
import { measureDelivery } from './scenarios/delivery.js';

/**
 * Only the bench's delivery scenario, ROUNDS times (each with its own nodemailer baseline):
 * delivered/s at 4 and 16 workers, delivery_ratio_w4 and delivery_scaling_w16_w4, plus what the
 * app's PostgreSQL backends were doing meanwhile (pg_stat_activity, sampled) and the lock waits
 * seen. BENCH_PROFILE=<dir> also writes the app's CPU profiles (bench/lib/app-child.ts).
 * Run after `npm run build`: BENCH_BACKLOG=10000 BENCH_ROUNDS=2 npx tsx bench/delivery-figures.ts
 */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WORKERS = (process.env.BENCH_WORKERS ?? '4,16').split(',').map(Number);

const env = await startBenchEnvironment();
try {
  await prepareBacklogTemplate(env);
  const observer = new pg.Client({ connectionString: env.postgres.url() });
  await observer.connect();
  const locksClient = new pg.Client({ connectionString: env.postgres.url() });
  await locksClient.connect();
  for (let round = 1; round <= ROUNDS; round++) {
    const waits = sampleWaitEvents(observer, APPLICATION_NAME);
    const locks = sampleLockWaits(locksClient);
    const result = await measureDelivery(env, BACKLOG, WORKERS);
    const activity = await waits.stop();
    const lockWaits = await locks.stop();
    const rate = (w: number) => result.rows.find((row) => row.workers === w)?.per_second ?? 0;
    console.log(
      JSON.stringify({
        round,
        baseline_per_second: result.baseline_per_second,
        rows: result.rows.map(({ workers, per_second, ratio, cpu_ms, duplicates }) => ({
          workers,
          per_second,
          ratio,
          cpu_ms,
          duplicates,
        })),
        delivery_scaling_w16_w4: Math.round((rate(16) / rate(4)) * 1000) / 1000,
        backend_activity: activity,
        lock_waits: lockWaits.length,
        longest_lock_wait_ms: Math.max(0, ...lockWaits.map((wait) => wait.waitedMs)),
      }),
    );
  }
  await observer.end();
  await locksClient.end();
} finally {
  await env.close();
}
