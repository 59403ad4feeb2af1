import type pg from 'pg';

/** One lock request seen waiting, at its longest observed length. */
export interface LockWait {
  /** Epoch ms when the wait began. */
  readonly since: number;
  /** How long it had waited when last seen. */
  readonly waitedMs: number;
  readonly query: string;
  /** pg_locks.locktype, with the relation when there is one (`transactionid`, `relation:emails`). */
  readonly lock: string;
}

export interface LockWaitSampler {
  readonly samples: () => number;
  /** Stops sampling; answers every wait seen. */
  stop(): Promise<LockWait[]>;
}

/**
 * Every `everyMs`, reads the lock requests not yet granted (pg_locks.waitstart, PostgreSQL 14+).
 * A wait shorter than the period can go unseen, and a wait is only known up to its last sample,
 * so the longest wait seen is a lower bound of the true one.
 */
export function sampleLockWaits(client: pg.Client, everyMs = 100): LockWaitSampler {
  const waits = new Map<string, LockWait>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{
        pid: number;
        since: Date;
        waited_ms: number;
        query: string;
        lock: string;
      }>(
        `SELECT l.pid, l.waitstart AS since, a.query,
                extract(epoch FROM clock_timestamp() - l.waitstart)::float8 * 1000 AS waited_ms,
                l.locktype || coalesce(':' || l.relation::regclass::text, '') AS lock
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.pid <> pg_backend_pid()`,
      );
      samples += 1;
      for (const row of rows) {
        const since = row.since.getTime();
        waits.set(`${row.pid}@${since}`, {
          since,
          waitedMs: row.waited_ms,
          query: row.query,
          lock: row.lock,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples: () => samples,
    async stop() {
      stopped = true;
      await loop;
      return [...waits.values()];
    },
  };
}
