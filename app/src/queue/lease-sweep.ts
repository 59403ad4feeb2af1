import type pg from 'pg';
import type { Logger } from '../logger.js';
import { emailsFailed } from './email-metrics.js';
import { reclaimExpiredLeases } from './queue-store.js';
import { maxRelayDeferrals, type RetryPolicy } from './retry-policy.js';

/**
 * The process's sweep for expired leases, shared by its workers: each worker calls it before a
 * claim, and it runs at most once per `everyMs` for them all (a caller that arrives while a
 * sweep runs waits for that one). A failed sweep rejects its callers and is tried again by the
 * next call.
 */
export function leaseSweep(
  pool: Pick<pg.Pool, 'query'>,
  retry: RetryPolicy,
  logger: Logger,
  everyMs: number,
): () => Promise<void> {
  let sweptAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    const reclaimed = await reclaimExpiredLeases(
      pool,
      maxRelayDeferrals(retry.retryAttempts),
      retry.maxAgeSeconds,
    );
    sweptAt = performance.now();
    if (reclaimed.failed > 0) emailsFailed.inc(reclaimed.failed);
    if (reclaimed.requeued + reclaimed.failed > 0) {
      logger.warn(reclaimed, 'reclaimed emails whose worker stopped mid-send');
    }
  };
  return () => {
    if (running) return running;
    if (performance.now() - sweptAt < everyMs) return Promise.resolve();
    running = sweep().finally(() => {
      running = undefined;
    });
    return running;
  };
}
