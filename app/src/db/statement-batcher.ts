import type pg from 'pg';

/**
 * Group commit for a hot statement: calls that arrive while earlier batches are in flight wait
 * and then go to PostgreSQL together, as ONE statement over many rows. Each call still settles
 * only once its own row is committed. Nothing waits on a timer: a lone call goes at once (on the
 * next turn of the event loop), so batching costs no latency when the server is quiet and
 * saves a round trip, a transaction and the per-statement work when it is busy.
 */
export interface BatchLimits<I = unknown> {
  /** The most rows in one statement. */
  readonly maxBatch: number;
  /** The most statements running at once; later calls join the next batch. */
  readonly maxInFlight: number;
  /**
   * The most content in one statement, as `measure` sizes each item; an item larger than `max`
   * goes alone. Keeps a statement's parameters (and the memory they take) bounded when rows
   * vary from a few bytes to megabytes.
   */
  readonly maxSize?: { readonly max: number; measure(item: I): number };
}

/**
 * A call waited for its batch longer than DB_POOL_TIMEOUT, the time it would have waited for a
 * pool connection: the statements ahead of it are stuck (locks, a slow disk, PostgreSQL gone).
 */
export class BatchWaitTimeout extends Error {
  constructor(waitedMs: number) {
    super(
      `no database connection within DB_POOL_TIMEOUT (${waitedMs} ms): the statements ahead are stuck`,
    );
    this.name = 'BatchWaitTimeout';
  }
}

interface Waiting<I, O> {
  readonly item: I;
  readonly size: number;
  readonly since: number;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation). */
const ROW_ERROR = /^2[23]/;

export class StatementBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private expiry: NodeJS.Timeout | undefined;

  /**
   * `run` handles a batch in one statement and returns one result per item, in order. When it
   * fails because of one row's data, the batch is retried in halves (down to single items, one
   * statement at a time) so that only the faulty call fails; any other error (PostgreSQL unreachable, pool timeout) fails the whole batch at
   * once, so no call waits twice as long as it should. A call still waiting for its batch after
   * `maxWaitMs` (the pool's connection timeout; 0: none) fails with BatchWaitTimeout.
   */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly limits: BatchLimits<NoInfer<I>>,
    private readonly maxWaitMs: number,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const size = this.limits.maxSize?.measure(item) ?? 0;
      this.waiting.push({ item, size, since: performance.now(), resolve, reject });
      this.schedule();
      this.watchOldest();
    });
  }

  /** One timer, for the call that has waited longest (the waiting list is in arrival order). */
  private watchOldest(): void {
    const oldest = this.waiting[0];
    if (this.maxWaitMs <= 0 || this.expiry || !oldest) return;
    const dueIn = oldest.since + this.maxWaitMs - performance.now();
    this.expiry = setTimeout(
      () => {
        this.expiry = undefined;
        const now = performance.now();
        while (this.waiting[0] && now - this.waiting[0].since >= this.maxWaitMs) {
          this.waiting.shift()?.reject(new BatchWaitTimeout(this.maxWaitMs));
        }
        this.watchOldest();
      },
      Math.max(0, dueIn),
    );
    this.expiry.unref();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.limits.maxInFlight || this.waiting.length === 0)
      return;
    this.scheduled = true;
    // One turn of the event loop: requests parsed in the same turn share the statement.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.nextBatchLength());
        this.inFlight += 1;
        void this.settle(batch).finally(() => {
          this.inFlight -= 1;
          this.schedule();
        });
      }
    });
  }

  /** How many of the waiting calls the next statement takes (at least one). */
  private nextBatchLength(): number {
    const { maxBatch, maxSize } = this.limits;
    const limit = Math.min(maxBatch, this.waiting.length);
    if (!maxSize) return limit;
    let size = 0;
    for (let count = 0; count < limit; count++) {
      size += this.waiting[count]?.size ?? 0;
      if (count > 0 && size > maxSize.max) return count;
    }
    return limit;
  }

  private async settle(batch: Waiting<I, O>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((waiting) => waiting.item));
      if (results.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
      }
      for (const [index, waiting] of batch.entries()) waiting.resolve(results[index] as O);
    } catch (error) {
      if (batch.length > 1 && isRowError(error)) {
        // Halves, one after the other, inside this batch's in-flight slot: the faulty row is
        // found in a few statements and never by more statements at once than maxInFlight.
        const half = Math.ceil(batch.length / 2);
        await this.settle(batch.slice(0, half));
        await this.settle(batch.slice(half));
        return;
      }
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

/** How long a call may wait for its batch: as long as `pool` waits for a connection. */
export function batchWaitOf(pool: pg.Pool): number {
  return pool.options.connectionTimeoutMillis ?? 0;
}

function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ROW_ERROR.test(code);
}
