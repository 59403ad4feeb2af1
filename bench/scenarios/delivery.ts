import { measureNodemailerBaseline } from '../lib/baseline-smtp.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { type BenchEnvironment, SMTP_POOL_SIZE, startService } from '../lib/environment.js';
import { readProcessCpuMs } from '../lib/proc-cpu.js';
import { median, ratio, round } from '../lib/stats.js';
import { timeBacklogDelivery, waitForDeliveredRows } from '../lib/timed-delivery.js';

export interface DeliveryRow {
  readonly workers: number;
  readonly per_second: number;
  readonly ratio: number;
  /** CPU ms per delivered email, from the commit of the backlog: the app and PostgreSQL. */
  readonly cpu_ms: Record<string, number>;
  /** Messages at the sink minus distinct Message-IDs (at-least-once shows up here). */
  readonly duplicates: number;
  /** Rows marked delivered in PostgreSQL once the sink had them all. */
  readonly delivered_rows: number;
  readonly max_smtp_connections: number;
}

export interface DeliveryResult {
  readonly backlog: number;
  /** The median of the nodemailer runs, one before each SelfMX run. */
  readonly baseline_per_second: number;
  readonly baseline_runs_per_second: number[];
  readonly baseline_max_smtp_connections: number;
  /** The nodemailer sender process's CPU ms per message. */
  readonly baseline_cpu_ms: number;
  readonly rows: DeliveryRow[];
}

/**
 * A backlog of `backlog` emails delivered by `serve` with each QUEUE_WORKERS value, against
 * nodemailer alone sending the same number of the same messages with the same pool. A nodemailer
 * run precedes each SelfMX run (A B A B), so that a slow spell of the machine hits both sides.
 */
export async function measureDelivery(
  env: BenchEnvironment,
  backlog: number,
  workerCounts: number[],
): Promise<DeliveryResult> {
  const baselines: Awaited<ReturnType<typeof measureNodemailerBaseline>>[] = [];
  const runs: (Omit<DeliveryRow, 'ratio'> & { rate: number })[] = [];
  for (const workers of workerCounts) {
    baselines.push(await measureNodemailerBaseline(env.sink, SMTP_POOL_SIZE, backlog));
    const service = await startService(env, { QUEUE_WORKERS: String(workers) });
    try {
      env.sink.stats.maxOpen = env.sink.stats.open;
      let meter: ((items: number) => Record<string, number>) | undefined;
      const timed = await timeBacklogDelivery(env.pool, env.sink, backlog, backlog, async () => {
        meter = startCpuMeter({
          app: () => readProcessCpuMs(service.app.pid),
          postgres: env.postgresCpuMs,
        });
      });
      const cpu = meter?.(backlog) ?? {};
      const ids = new Set(env.sink.messages.map((message) => message.header('message-id')));
      runs.push({
        workers,
        rate: timed.perSecond,
        per_second: round(timed.perSecond, 1),
        cpu_ms: cpu,
        duplicates: env.sink.messages.length - ids.size,
        delivered_rows: await waitForDeliveredRows(env.pool, backlog),
        max_smtp_connections: env.sink.stats.maxOpen,
      });
    } finally {
      await service.stop();
    }
  }
  const baselineRate = median(baselines.map((run) => run.perSecond));
  return {
    backlog,
    baseline_per_second: round(baselineRate, 1),
    baseline_runs_per_second: baselines.map((run) => round(run.perSecond, 1)),
    baseline_max_smtp_connections: Math.max(...baselines.map((run) => run.maxOpenConnections)),
    baseline_cpu_ms: round(median(baselines.map((run) => run.cpuMsPerMessage)), 3),
    rows: runs.map(({ rate, ...row }) => ({ ...row, ratio: ratio(rate, baselineRate) })),
  };
}
