import { type DeliveryContext, recordDelivery, sendClaimedEmail } from './deliver-email.js';
import { renewLeases } from './queue-store.js';
import type { QueueWakeup } from './queue-wakeup.js';
import type { QueuedEmail } from './queued-email.js';
import type { SendGate } from './send-gate.js';

export interface WorkerTuning {
  /** Emails claimed at once and sent concurrently through the pooled transport. */
  readonly batchSize: number;
  /** How long a claim holds before another worker may take the email (renewed while sending). */
  readonly leaseSeconds: number;
  /** The polling fallback when no NOTIFY arrives. */
  readonly pollIntervalMs: number;
}

export interface WorkerContext extends DeliveryContext {
  readonly tuning: WorkerTuning;
  readonly wakeup: QueueWakeup;
  /** This worker's next batch (claimed together with the other workers' that ask meanwhile). */
  readonly claimBatch: () => Promise<QueuedEmail[]>;
  /** The process's expired-lease sweep; runs at most once per quarter lease for all workers. */
  readonly sweepExpiredLeases: () => Promise<void>;
  /** Bounds the sends handed to the SMTP pool at once, across the process's workers. */
  readonly sendGate: SendGate;
}

const MAX_ERROR_BACKOFF_MS = 30_000;

/**
 * One queue worker: claim a batch, deliver it, repeat; when the queue is empty, sleep until a
 * NOTIFY or the poll interval. Returns once `wakeup` is closed and the batch in hand is finished
 * (graceful stop never abandons a claimed email mid-send).
 */
export async function runQueueWorker(context: WorkerContext): Promise<void> {
  const { tuning, wakeup, workerId, logger } = context;
  let consecutiveErrors = 0;
  while (!wakeup.closed) {
    const seen = wakeup.generation;
    let batch: QueuedEmail[];
    try {
      await context.sweepExpiredLeases();
      batch = await context.claimBatch();
      if (consecutiveErrors > 0)
        logger.info({ workerId }, 'queue worker reached the database again');
      consecutiveErrors = 0;
    } catch (error) {
      consecutiveErrors += 1;
      if (consecutiveErrors === 1) {
        logger.error(
          { workerId, err: error instanceof Error ? error.message : String(error) },
          'queue worker cannot reach the database; retrying',
        );
      }
      const backoff = Math.min(250 * 2 ** consecutiveErrors, MAX_ERROR_BACKOFF_MS);
      await wakeup.wait(seen, Math.min(backoff, tuning.pollIntervalMs));
      continue;
    }
    if (batch.length === 0) {
      await wakeup.wait(seen, tuning.pollIntervalMs);
      continue;
    }
    await deliverBatch(context, batch);
  }
}

async function deliverBatch(context: WorkerContext, batch: QueuedEmail[]): Promise<void> {
  const pending = new Set(batch.map((email) => email.id));
  // Renew the leases well before they expire, so a slow relay does not let a second worker
  // claim (and send) an email this worker is still sending.
  const heartbeat = setInterval(
    () => {
      renewLeases(context.pool, context.workerId, [...pending], context.tuning.leaseSeconds).catch(
        (error: unknown) =>
          context.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'could not renew queue leases',
          ),
      );
    },
    (context.tuning.leaseSeconds * 1000) / 3,
  );
  try {
    // The whole batch is sent, then its outcomes are recorded together: one statement for the
    // batch (shared with the other workers' outcomes) instead of one per few emails. The
    // worker waits for the batch's slowest send before claiming more either way.
    const outcomes = await Promise.all(
      batch.map((email) =>
        guarded(context, email, () => context.sendGate.run(() => sendClaimedEmail(context, email))),
      ),
    );
    await Promise.all(
      batch.map(async (email, index) => {
        const outcome = outcomes[index];
        if (outcome) await guarded(context, email, () => recordDelivery(context, email, outcome));
        pending.delete(email.id);
      }),
    );
  } finally {
    clearInterval(heartbeat);
  }
}

/** An unexpected error (a bug) must not stop the worker: the lease expires, the email is retried. */
async function guarded<T>(
  context: WorkerContext,
  email: QueuedEmail,
  step: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    context.logger.error(
      { emailId: email.id, err: error instanceof Error ? error.stack : String(error) },
      'unexpected error while delivering',
    );
    return undefined;
  }
}
