import type pg from 'pg';
import { claimEmails, reclaimExpiredLeases } from '../../app/src/queue/queue-store.js';
import { promoteDueScheduledEmails } from '../../app/src/queue/scheduled-emails.js';

interface CapturedQuery {
  text: string;
  values: unknown[];
}

/**
 * The exact SQL (and parameters) that a queue function sends, taken by handing it a recorder in
 * place of the pool: the bench EXPLAINs what the workers really run, whatever it becomes.
 */
async function capture(
  run: (db: Pick<pg.Pool, 'query'>) => Promise<unknown>,
): Promise<CapturedQuery> {
  let captured: CapturedQuery | undefined;
  const recorder = {
    query: async (query: string | pg.QueryConfig, values: unknown[] = []) => {
      captured =
        typeof query === 'string'
          ? { text: query, values }
          : { text: query.text, values: query.values ?? [] };
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pick<pg.Pool, 'query'>;
  await run(recorder);
  if (!captured) throw new Error('the queue function sent no query');
  return captured;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the workers' claim query, of the expired-lease sweep that runs
 * before every claim and of the promotion of due scheduled emails that starts each claim, each
 * inside a transaction that is rolled back (EXPLAIN ANALYZE of an UPDATE really updates).
 * Returns the plans as text.
 */
export async function explainQueueQueries(
  pool: pg.Pool,
): Promise<{ claim: string; reclaim: string; promote: string }> {
  // claimEmails promotes first, then claims: the capture keeps its last query, the claim.
  const claim = await capture((db) => claimEmails(db, 'bench-explain#0', 10, 120));
  const reclaim = await capture((db) => reclaimExpiredLeases(db, 4));
  const promote = await capture((db) => promoteDueScheduledEmails(db));
  const client = await pool.connect();
  const explain = async ({ text, values }: CapturedQuery) => {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) ${text}`,
        values,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
    }
  };
  try {
    return {
      claim: await explain(claim),
      reclaim: await explain(reclaim),
      promote: await explain(promote),
    };
  } finally {
    client.release();
  }
}

/**
 * True when the plan reads the emails table only through indexes and no node reads more than
 * `maxRows` rows of it (an index scan over the whole table is a full scan in disguise).
 */
export function isIndexDriven(plan: string, maxRows = 1000): boolean {
  const lines = plan.split('\n');
  const emailScans = lines.filter((line) => /Scan (using \S+ )?on emails\b/.test(line));
  const usesIndex = lines.some((line) => /Index (Only )?Scan (using|on) emails_/.test(line));
  const rowsRead = emailScans.map((line) => Number(/rows=(\d+)/.exec(line)?.[1] ?? 0));
  return (
    usesIndex &&
    !emailScans.some((line) => line.includes('Seq Scan')) &&
    rowsRead.every((rows) => rows <= maxRows)
  );
}
