import { clearEmails } from '../lib/backlog.js';
import { type ClosedLoopResult, runClosedLoop } from '../lib/closed-loop.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { type BenchEnvironment, startService } from '../lib/environment.js';
import { readProcessCpuMs } from '../lib/proc-cpu.js';
import { RawHttpPool } from '../lib/raw-http-pool.js';
import { sampleEmailBody } from '../lib/sample-email.js';
import { ratio, round } from '../lib/stats.js';

export interface BatchOptions {
  concurrency: number;
  /** Emails in one POST /v1/emails/batch. */
  batchSize: number;
  durationMs: number;
  warmupMs: number;
  /** Single and batch runs alternate this many times; each keeps its best round. */
  rounds: number;
}

export interface BatchResult {
  readonly concurrency: number;
  readonly batch_size: number;
  readonly duration_ms: number;
  readonly rounds: number;
  /** Emails accepted per second through POST /v1/emails (one email a request). */
  readonly single_per_second: number;
  /** Emails accepted per second through POST /v1/emails/batch. */
  readonly batch_per_second: number;
  readonly single_p50_ms: number;
  readonly batch_p50_ms: number;
  readonly errors: number;
  /** CPU ms per accepted email in the best round of each side: the app, PostgreSQL. */
  readonly single_app_cpu_ms: number;
  readonly batch_app_cpu_ms: number;
  readonly single_postgres_cpu_ms: number;
  readonly batch_postgres_cpu_ms: number;
  /** batch emails/s ÷ single emails/s. */
  readonly batch_ratio: number;
}

/**
 * Emails accepted per second through POST /v1/emails/batch against single POST /v1/emails: the
 * same sample email, the same closed-loop concurrency, a service with no queue workers (as the
 * ingest runs), rounds alternating so that noise hits both sides.
 */
export async function measureBatch(
  env: BenchEnvironment,
  options: BatchOptions,
): Promise<BatchResult> {
  const service = await startService(env, { QUEUE_WORKERS: '0' });
  const http = new RawHttpPool(service.baseUrl, { authorization: `Bearer ${env.apiKey}` });
  let sequence = 0;
  const single = async () => {
    await http.post('/v1/emails', sampleEmailBody(++sequence));
  };
  const batch = async () => {
    const emails = Array.from({ length: options.batchSize }, () => sampleEmailBody(++sequence));
    await http.post('/v1/emails/batch', `[${emails.join(',')}]`);
  };
  const timing = {
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
  };
  type Measured = ClosedLoopResult & { appCpuMs: number; postgresCpuMs: number };
  const measure = async (operation: () => Promise<void>, emailsPerOperation: number) => {
    const meter = startCpuMeter({
      app: () => readProcessCpuMs(service.app.pid),
      postgres: env.postgresCpuMs,
    });
    const result = await runClosedLoop(operation, timing);
    const cpu = meter(result.total * emailsPerOperation);
    return { ...result, appCpuMs: cpu.app ?? 0, postgresCpuMs: cpu.postgres ?? 0 };
  };
  const best = (current: Measured | undefined, next: Measured) =>
    !current || next.perSecond > current.perSecond ? next : current;
  let singles: Measured | undefined;
  let batches: Measured | undefined;
  let errors = 0;
  try {
    for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
      const s = await measure(single, 1);
      const b = await measure(batch, options.batchSize);
      errors += s.errors + b.errors;
      singles = best(singles, s);
      batches = best(batches, b);
      // The emails table grows by the same amount for both sides in every round.
      await clearEmails(env.pool);
    }
  } finally {
    http.close();
    await service.stop();
    await clearEmails(env.pool);
  }
  if (!singles || !batches) throw new Error('no batch rounds ran');
  if (singles.completed === 0 || batches.completed === 0) {
    throw new Error(`no request succeeded: ${[...singles.errorSamples, ...batches.errorSamples]}`);
  }
  const batchEmailsPerSecond = batches.perSecond * options.batchSize;
  return {
    concurrency: options.concurrency,
    batch_size: options.batchSize,
    duration_ms: options.durationMs,
    rounds: options.rounds,
    single_per_second: singles.perSecond,
    batch_per_second: round(batchEmailsPerSecond, 1),
    single_p50_ms: singles.p50Ms,
    batch_p50_ms: batches.p50Ms,
    errors,
    single_app_cpu_ms: singles.appCpuMs,
    batch_app_cpu_ms: batches.appCpuMs,
    single_postgres_cpu_ms: singles.postgresCpuMs,
    batch_postgres_cpu_ms: batches.postgresCpuMs,
    batch_ratio: ratio(batchEmailsPerSecond, singles.perSecond),
  };
}
