import { clearEmails, insertScheduledLater } from '../lib/backlog.js';
import { explainQueueQueries, isIndexDriven } from '../lib/claim-explain.js';
import { type BenchEnvironment, startService } from '../lib/environment.js';
import { median, ratio, round } from '../lib/stats.js';
import { timeBacklogDelivery } from '../lib/timed-delivery.js';

export interface ScaleOptions {
  small: number;
  large: number;
  /** Emails scheduled for a day later, in the table next to the large backlog (never sent). */
  scheduledLater: number;
  /** Deliveries timed out of the large backlog (the queue is at its deepest then). */
  largeMeasured: number;
  /**
   * The small backlog is quick and noisy: run it this many times (half before the large run,
   * half after) and keep the median.
   */
  smallRuns: number;
  workers: number;
}

export interface ScaleResult {
  readonly workers: number;
  readonly small_backlog: number;
  readonly small_per_second: number;
  readonly large_backlog: number;
  readonly scheduled_later: number;
  readonly scheduled_insert_ms: number;
  readonly large_measured: number;
  readonly large_per_second: number;
  /** large / small steady delivery rate: 1.0 means the queue does not slow down as it grows. */
  readonly backlog_ratio: number;
  readonly large_insert_ms: number;
  readonly claim_index_driven: boolean;
  readonly claim_plan: string;
  readonly reclaim_plan: string;
}

/**
 * Whether delivery slows down as the queue grows: the steady rate (first to last measured
 * message at the sink) with a small backlog against the first `largeMeasured` deliveries of a
 * large one, which shares the table with `scheduledLater` emails scheduled for a day later. The
 * claim query is EXPLAINed against the large backlog right after it commits, as the workers
 * start on it (inside a rolled-back transaction; SKIP LOCKED keeps them apart).
 */
export async function measureScale(
  env: BenchEnvironment,
  options: ScaleOptions,
): Promise<ScaleResult> {
  let service = await startService(env, { QUEUE_WORKERS: String(options.workers) });
  try {
    const smallRun = async () =>
      (await timeBacklogDelivery(env.pool, env.sink, options.small)).steadyPerSecond;
    // One unmeasured run warms the process up (JIT, SMTP connections); the measured small runs
    // are split around the large one, so that a noisy neighbour skews both sides alike.
    await smallRun();
    const small: number[] = [];
    for (let run = 0; run < Math.ceil(options.smallRuns / 2); run++) small.push(await smallRun());
    let plans = { claim: '', reclaim: '' };
    let scheduledInsertMs = 0;
    const large = await timeBacklogDelivery(
      env.pool,
      env.sink,
      options.large,
      options.largeMeasured,
      async () => {
        plans = await explainQueueQueries(env.pool);
      },
      async () => {
        const began = performance.now();
        await insertScheduledLater(env.pool, options.scheduledLater);
        scheduledInsertMs = performance.now() - began;
      },
    );
    // Workers are still on the rest of the large backlog: stop them before the next runs.
    await service.stop();
    await clearEmails(env.pool);
    service = await startService(env, { QUEUE_WORKERS: String(options.workers) });
    await smallRun();
    for (let run = 0; run < Math.floor(options.smallRuns / 2); run++) small.push(await smallRun());
    const smallRate = median(small);
    return {
      workers: options.workers,
      small_backlog: options.small,
      small_per_second: round(smallRate, 1),
      large_backlog: options.large,
      scheduled_later: options.scheduledLater,
      scheduled_insert_ms: round(scheduledInsertMs, 0),
      large_measured: options.largeMeasured,
      large_per_second: round(large.steadyPerSecond, 1),
      backlog_ratio: ratio(large.steadyPerSecond, smallRate),
      large_insert_ms: round(large.insertMs, 0),
      claim_index_driven: isIndexDriven(plans.claim),
      claim_plan: plans.claim,
      reclaim_plan: plans.reclaim,
    };
  } finally {
    await service.stop();
  }
}
