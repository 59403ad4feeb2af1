import type pg from 'pg';
import { claimEmails, reclaimExpiredLeases } from '../../app/src/queue/queue-store.js';

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
    query: async (text: string, values: unknown[] = []) => {
      captured = { text, values };
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Pick<pg.Pool, 'query'>;
  await run(recorder);
  if (!captured) throw new Error('the queue function sent no query');
  return captured;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the workers' claim query and of the expired-lease sweep that runs
 * before every claim, inside a savepoint that is rolled back (EXPLAIN ANALYZE of an UPDATE
 * really updates). Returns the plans as text.
 */
export async function explainQueueQueries(
  client: pg.PoolClient,
): Promise<{ claim: string; reclaim: string }> {
  const claim = await capture((db) => claimEmails(db, 'bench-explain#0', 10, 120));
  const reclaim = await capture((db) => reclaimExpiredLeases(db, 4));
  const explain = async ({ text, values }: CapturedQuery) => {
    await client.query('SAVEPOINT bench_explain');
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON) ${text}`,
        values,
      );
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK TO SAVEPOINT bench_explain');
    }
  };
  return { claim: await explain(claim), reclaim: await explain(reclaim) };
}

/** True when the plan reads the emails table through an index and never scans it whole. */
export function isIndexDriven(plan: string): boolean {
  return /Index (Only )?Scan (using|on) emails_/.test(plan) && !/Seq Scan on emails/.test(plan);
}
