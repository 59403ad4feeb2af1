import { startBenchEnvironment, startService } from './lib/environment.js';
import { measureBatch } from './scenarios/batch.js';
import { measureIngest } from './scenarios/ingest.js';

/**
 * Only the ingest (POST /v1/emails at concurrency 16 against the bare INSERT) and batch sections
 * of the bench, with the app's CPU ms per accepted email on each path.
 * BENCH_PROFILE=<dir> also writes the app's CPU profiles (bench/lib/app-child.ts).
 * Run after `npm run build`: BENCH_ROUNDS=2 npx tsx bench/ingest-figures.ts
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);

const env = await startBenchEnvironment();
try {
  const service = await startService(env, { QUEUE_WORKERS: '0' });
  try {
    const ingest = await measureIngest(env, service, {
      concurrencies: [16],
      durationMs: DURATION_MS,
      warmupMs: 500,
      rounds: ROUNDS,
    });
    for (const row of ingest.rows) {
      console.log(
        JSON.stringify({
          ingest_c16: {
            api_per_second: row.api.perSecond,
            insert_per_second: row.baseline.perSecond,
            ratio: row.ratio,
            api_cpu_ms: row.api_cpu_ms,
            insert_cpu_ms: row.baseline_cpu_ms,
            p50_ms: row.api.p50Ms,
            errors: row.api.errors,
          },
          sql_path_c16: ingest.sql_path_c16,
          peak_rss_mb: ingest.peak_rss_mb,
        }),
      );
    }
  } finally {
    await service.stop();
  }
  const batch = await measureBatch(env, {
    concurrency: 8,
    batchSize: 100,
    durationMs: DURATION_MS,
    warmupMs: 500,
    rounds: ROUNDS,
  });
  console.log(JSON.stringify({ batch }));
} finally {
  await env.close();
}
