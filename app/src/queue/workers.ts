import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { QueueConfig, SmtpConfig } from '../config/app-config.js';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import type { Logger } from '../logger.js';
import { trackOpenConnections } from '../smtp/smtp-metrics.js';
import { createSmtpTransport, openConnections, type SmtpTransport } from '../smtp/transport.js';
import { atMostEvery } from './at-most-every.js';
import { trackQueueDepth } from './email-metrics.js';
import { leaseSweep } from './lease-sweep.js';
import { startQueueListener } from './queue-listener.js';
import { claimEmailsForWorkers, type OutcomeReport, recordOutcomes } from './queue-store.js';
import { QueueWakeup } from './queue-wakeup.js';
import { runQueueWorker, type WorkerTuning } from './queue-worker.js';
import type { QueuedEmail } from './queued-email.js';
import { promoteDueScheduledEmails } from './scheduled-emails.js';
import { SendGate } from './send-gate.js';

export const DEFAULT_TUNING: WorkerTuning = Object.freeze({
  batchSize: 10,
  leaseSeconds: 60,
  pollIntervalMs: 5000,
});

/** Up to this many outcomes share one statement (see statement-batcher.ts). */
const OUTCOME_BATCH: BatchLimits = { maxBatch: 64, maxInFlight: 1 };

/**
 * Sends handed to nodemailer at once, per SMTP pool connection: one on the wire and one ready,
 * so a connection that finishes a message starts the next without waiting for a worker.
 */
const SENDS_PER_CONNECTION = 2;

/**
 * Due scheduled emails are moved to the queue before a claim, at most this often for all the
 * process's workers: a statement before every claim would double the claims' statements under
 * load, and an idle worker's poll (5 s) is the longer wait anyway.
 */
const SCHEDULED_PROMOTION_MS = 1000;

export interface StartQueueWorkersOptions {
  readonly pool: pg.Pool;
  readonly config: { readonly queue: QueueConfig; readonly smtp: SmtpConfig };
  readonly logger: Logger;
  /** Internal knobs (tests shorten the lease and lengthen the poll); defaults in DEFAULT_TUNING. */
  readonly tuning?: Partial<WorkerTuning>;
}

export interface QueueWorkers {
  /**
   * This process's lease owner prefix (`pid-random`; each worker appends `#n`). It appears in
   * email_events, which tenants can read, so it names no host; the start-up log line maps it to
   * the host name.
   */
  readonly processId: string;
  /** Stops claiming, finishes the emails in hand, closes the SMTP pool and the listener. */
  stop(): Promise<void>;
}

/**
 * Starts QUEUE_WORKERS workers that deliver queued emails through one pooled SMTP transport,
 * woken by LISTEN selfmx_email_queued with a polling fallback. With QUEUE_WORKERS=0 nothing is
 * started (another process delivers), but selfmx_emails_queued still reports the queue depth.
 */
export async function startQueueWorkers(options: StartQueueWorkersOptions): Promise<QueueWorkers> {
  const { pool, config } = options;
  const tuning = { ...DEFAULT_TUNING, ...options.tuning };
  const processId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = options.logger.child({ component: 'queue' });
  trackQueueDepth(pool);
  if (config.queue.workers === 0) {
    logger.info('QUEUE_WORKERS=0: this process delivers no email');
    return { processId, stop: async () => {} };
  }

  const transport: SmtpTransport = createSmtpTransport(config.smtp);
  const untrackConnections = trackOpenConnections(() => openConnections(transport));
  const wakeup = new QueueWakeup();
  // pg-pool keeps the password non-enumerable, so a spread of pool.options would drop it.
  const connection = { ...pool.options, password: pool.options.password };
  const listener = await startQueueListener(connection, () => wakeup.notify(), logger);
  // The workers' outcomes share statements: one UPDATE per round of sends, not one per email.
  const outcomes = new StatementBatcher(
    (reports: OutcomeReport[]) => recordOutcomes(pool, reports),
    OUTCOME_BATCH,
    batchWaitOf(pool),
  );
  const promoteScheduledEmails = atMostEvery(SCHEDULED_PROMOTION_MS, async () => {
    await promoteDueScheduledEmails(pool);
  });
  // Workers that ask for a batch at the same time (typically those whose outcomes just shared a
  // statement) share one claim statement too; claims run one at a time.
  const claims = new StatementBatcher(
    async (workerIds: string[]) => {
      await promoteScheduledEmails();
      return claimEmailsForWorkers(pool, workerIds, tuning.batchSize, tuning.leaseSeconds);
    },
    { maxBatch: config.queue.workers, maxInFlight: 1 },
    batchWaitOf(pool),
  );
  // Expired leases are at least a lease old: a look every quarter lease is soon enough.
  const sweepExpiredLeases = leaseSweep(
    pool,
    config.queue,
    logger,
    (tuning.leaseSeconds * 1000) / 4,
  );
  const sendGate = new SendGate(config.smtp.poolSize * SENDS_PER_CONNECTION);
  const loops = Array.from({ length: config.queue.workers }, (_, index) => {
    const workerId = `${processId}#${index}`;
    return runQueueWorker({
      pool,
      transport,
      logger,
      workerId,
      recordOutcome: (report) => outcomes.submit(report),
      retry: config.queue,
      recordOutcomeWithinMs: tuning.leaseSeconds * 1000,
      tuning,
      wakeup,
      claimBatch: (): Promise<QueuedEmail[]> => claims.submit(workerId),
      sweepExpiredLeases,
      sendGate,
    });
  });
  logger.info(
    {
      workers: config.queue.workers,
      smtp: `${config.smtp.host}:${config.smtp.port}`,
      processId,
      host: hostname(),
    },
    'queue workers started',
  );

  let stopping: Promise<void> | undefined;
  return {
    processId,
    stop() {
      stopping ??= (async () => {
        wakeup.close();
        await Promise.all(loops);
        await listener.stop();
        transport.close();
        untrackConnections();
        logger.info('queue workers stopped');
      })();
      return stopping;
    },
  };
}
