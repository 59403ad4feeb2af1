import type pg from 'pg';
import type { Logger } from '../logger.js';
import { atMostEvery } from './at-most-every.js';
import { emailsFailed } from './email-metrics.js';
import { reclaimExpiredLeases } from './queue-store.js';
import { maxRelayDeferrals, type RetryPolicy } from './retry-policy.js';

/**
 * The process's sweep for expired leases, shared by its workers: each worker calls it before a
 * claim, and it runs at most once per `everyMs` for them all (see at-most-every.ts).
 */
export function leaseSweep(
  pool: Pick<pg.Pool, 'query'>,
  retry: RetryPolicy,
  logger: Logger,
  everyMs: number,
): () => Promise<void> {
  return atMostEvery(everyMs, async () => {
    const reclaimed = await reclaimExpiredLeases(
      pool,
      maxRelayDeferrals(retry.retryAttempts),
      retry.maxAgeSeconds,
    );
    if (reclaimed.failed > 0) emailsFailed.inc(reclaimed.failed);
    if (reclaimed.requeued + reclaimed.failed > 0) {
      logger.warn(reclaimed, 'reclaimed emails whose worker stopped mid-send');
    }
  });
}
