import type pg from 'pg';
import { countQueuedEmails } from './queue-store.js';

/** The count runs at most once per this many milliseconds, however many callers ask. */
export const QUEUE_DEPTH_MAX_AGE_MS = 1000;
/** A count still running after this is abandoned by PostgreSQL's client (query_timeout). */
const COUNT_TIMEOUT_MS = 5000;

type Queryable = Pick<pg.Pool, 'query'>;
type Outcome = { depth: number } | { error: unknown };

/**
 * The number of queued emails, as /health and the selfmx_emails_queued gauge report it. Public
 * and scraped endpoints must not cost a query (and a pool slot) per request: the count runs at
 * most once per QUEUE_DEPTH_MAX_AGE_MS, callers in between get its outcome (a failure too), and
 * callers that arrive while it runs share it. So a flood of /health or /metrics holds at most one
 * pool connection.
 */
export class QueueDepth {
  private last: { outcome: Outcome; at: number } | undefined;
  private running: Promise<Outcome> | undefined;
  private started = 0;

  constructor(
    private readonly db: Queryable,
    private readonly maxAgeMs = QUEUE_DEPTH_MAX_AGE_MS,
  ) {}

  /** How many counts have been sent to PostgreSQL. */
  get queries(): number {
    return this.started;
  }

  /** The depth, fresh within maxAgeMs; rejects with the count's error when it failed. */
  async read(): Promise<number> {
    const outcome = await this.outcome();
    if ('error' in outcome) throw outcome.error;
    return outcome.depth;
  }

  private outcome(): Promise<Outcome> {
    if (this.last && performance.now() - this.last.at < this.maxAgeMs) {
      return Promise.resolve(this.last.outcome);
    }
    this.running ??= this.count().then((outcome) => {
      this.last = { outcome, at: performance.now() };
      this.running = undefined;
      return outcome;
    });
    return this.running;
  }

  private async count(): Promise<Outcome> {
    this.started += 1;
    try {
      return { depth: await countQueuedEmails(this.db, COUNT_TIMEOUT_MS) };
    } catch (error) {
      return { error };
    }
  }
}

const byDatabase = new WeakMap<Queryable, QueueDepth>();

/** The one QueueDepth of a pool, shared by /health and the metrics of the same process. */
export function queueDepthOf(db: Queryable): QueueDepth {
  let depth = byDatabase.get(db);
  if (!depth) {
    depth = new QueueDepth(db);
    byDatabase.set(db, depth);
  }
  return depth;
}
