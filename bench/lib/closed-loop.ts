import { percentile, round } from './stats.js';

export interface ClosedLoopOptions {
  /** How many operations are in flight at once (each "user" starts the next when one ends). */
  concurrency: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Operations that finish during this first period are not counted (connections, JIT). */
  warmupMs: number;
}

export interface ClosedLoopResult {
  readonly concurrency: number;
  /** Successful operations per second during the measured period. */
  readonly perSecond: number;
  readonly completed: number;
  /** Every successful operation, the warm-up included (for CPU per operation). */
  readonly total: number;
  readonly errors: number;
  /** The first few distinct error messages, to explain a bad run. */
  readonly errorSamples: string[];
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * A closed-loop load generator: `concurrency` loops each await one `operation` at a time until
 * the warm-up plus the measured duration are over. The same driver measures the API and its
 * baseline, so the two numbers differ only by what `operation` does.
 */
export async function runClosedLoop(
  operation: () => Promise<void>,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const errorSamples = new Set<string>();
  let errors = 0;
  let total = 0;
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;

  const loop = async () => {
    while (performance.now() < end) {
      const began = performance.now();
      try {
        await operation();
        total += 1;
        const finished = performance.now();
        // Throughput counts completions inside the measured window.
        if (finished >= measureFrom && finished <= end) latencies.push(finished - began);
      } catch (error) {
        errors += 1;
        if (errorSamples.size < 5) errorSamples.add((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));

  return {
    concurrency: options.concurrency,
    perSecond: round(latencies.length / (options.durationMs / 1000), 1),
    completed: latencies.length,
    total,
    errors,
    errorSamples: [...errorSamples],
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}
