import type pg from 'pg';
import type { SmtpSink } from '../../test/support/smtp-sink.js';
import { clearEmails, insertBacklog } from './backlog.js';

export interface TimedDelivery {
  readonly backlog: number;
  /** How many deliveries the rates are measured over (the whole backlog, or its first part). */
  readonly measured: number;
  /** measured / (backlog commit → measured-th message at the sink). */
  readonly perSecond: number;
  /** (measured − 1) / (1st → measured-th message): the steady rate, without the wake-up. */
  readonly steadyPerSecond: number;
  /** Backlog commit to the first message at the sink (NOTIFY wake-up, claim, first send). */
  readonly firstMessageMs: number;
  readonly insertMs: number;
}

/**
 * Empties the queue, commits a backlog of `backlog` emails in one statement while a service is
 * running, and times the sink until `measured` of them have arrived.
 */
export async function timeBacklogDelivery(
  pool: pg.Pool,
  sink: SmtpSink,
  backlog: number,
  measured = backlog,
  afterCommit?: () => Promise<void>,
  /** Runs on the emptied queue before the backlog is committed (e.g. rows that must not be sent). */
  beforeInsert?: () => Promise<void>,
): Promise<TimedDelivery> {
  await clearEmails(pool);
  await beforeInsert?.();
  sink.reset();
  const insertStarted = performance.now();
  const timeoutMs = 60_000 + measured * 20;
  // Arm the waiters before the commit: the first message can arrive within milliseconds.
  const first = sink.waitForMessages(1, timeoutMs).then(() => performance.now());
  const last = sink.waitForMessages(measured, timeoutMs).then(() => performance.now());
  first.catch(() => undefined);
  last.catch(() => undefined);
  const committedAt = await insertBacklog(pool, backlog);
  await afterCommit?.();
  const [firstAt, lastAt] = await Promise.all([first, last]);
  const total = lastAt - committedAt;
  // The sink has them all before the workers record the outcomes; let them finish.
  if (measured === backlog) await waitForDeliveredRows(pool, backlog);
  return {
    backlog,
    measured,
    perSecond: measured / (total / 1000),
    steadyPerSecond: measured > 1 ? (measured - 1) / ((lastAt - firstAt) / 1000) : 0,
    firstMessageMs: firstAt - committedAt,
    insertMs: committedAt - insertStarted,
  };
}

/** Waits until PostgreSQL shows `count` emails as delivered (the sink's 250 comes first). */
export async function waitForDeliveredRows(pool: pg.Pool, count: number, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails WHERE status = 'delivered'`,
    );
    const delivered = rows[0]?.n ?? 0;
    if (delivered >= count) return delivered;
    if (Date.now() > deadline) return delivered;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
