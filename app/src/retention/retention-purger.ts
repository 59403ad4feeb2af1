import type pg from 'pg';
import type { RetentionConfig } from '../config/app-config.js';
import type { Logger } from '../logger.js';
import { deleteExpiredAudit, deleteExpiredEmails, purgeEmailContent } from './retention-store.js';

export interface RetentionTuning {
  /** Time between rounds. */
  readonly intervalMs: number;
  /** Rows per batch (one short transaction each). */
  readonly batchSize: number;
  /** Pause between two batches, so the purge leaves the database to the sends. */
  readonly pauseMs: number;
}

export const DEFAULT_RETENTION_TUNING: RetentionTuning = Object.freeze({
  intervalMs: 60_000,
  batchSize: 500,
  pauseMs: 20,
});

export interface PurgeCounts {
  contentPurged: number;
  emailsDeleted: number;
  auditDeleted: number;
}

type Batch = (pool: pg.Pool, days: number, limit: number) => Promise<number | null>;

/**
 * One round: purges content past RETENTION_DAYS, then deletes emails past
 * METADATA_RETENTION_DAYS, then audit entries past AUDIT_RETENTION_DAYS, batch after batch
 * until a batch finds fewer rows than it may take, another instance's purger holds the lock,
 * or `stopping()` says so. A setting of 0 skips its step.
 */
export async function runRetentionRound(
  pool: pg.Pool,
  retention: RetentionConfig,
  tuning: RetentionTuning = DEFAULT_RETENTION_TUNING,
  stopping: () => boolean = () => false,
): Promise<PurgeCounts> {
  const drain = async (batch: Batch, days: number): Promise<number> => {
    let total = 0;
    while (days > 0 && !stopping()) {
      const changed = await batch(pool, days, tuning.batchSize);
      if (changed === null) break;
      total += changed;
      if (changed < tuning.batchSize) break;
      await pause(tuning.pauseMs);
    }
    return total;
  };
  return {
    contentPurged: await drain(purgeEmailContent, retention.contentDays),
    emailsDeleted: await drain(deleteExpiredEmails, retention.metadataDays),
    auditDeleted: await drain(deleteExpiredAudit, retention.auditDays),
  };
}

export interface RetentionPurger {
  stop(): Promise<void>;
}

/** Runs a retention round at start and every `intervalMs` until stopped (serve and worker). */
export function startRetentionPurger(options: {
  pool: pg.Pool;
  retention: RetentionConfig;
  logger: Logger;
  tuning?: Partial<RetentionTuning>;
}): RetentionPurger {
  const { pool, retention } = options;
  const tuning = { ...DEFAULT_RETENTION_TUNING, ...options.tuning };
  const logger = options.logger.child({ component: 'retention' });
  if (retention.contentDays === 0 && retention.metadataDays === 0 && retention.auditDays === 0) {
    return { stop: async () => {} };
  }
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      try {
        const counts = await runRetentionRound(pool, retention, tuning, () => stopped);
        if (counts.contentPurged + counts.emailsDeleted + counts.auditDeleted > 0) {
          logger.info(counts, 'retention: purged expired data');
        }
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'retention purge failed; retrying next round',
        );
      }
      if (!stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, tuning.intervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
