import type pg from 'pg';
import PgBoss from 'pg-boss';
import { BOSS_SCHEMA, EMAIL_QUEUE } from './peer-schema.js';

/** One job per email: what the API enqueues and a worker sends. */
export interface EmailJob {
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly html?: string;
  readonly text?: string;
}

/**
 * pg-boss on the peer's own pg pool (through its `db` option), so the API's key lookups and the
 * queue share DB_POOL_SIZE connections, as SelfMX's do. `maintain` is false for processes that
 * only enqueue a bench backlog: the server itself runs pg-boss's defaults.
 */
export async function startBoss(pool: pg.Pool, maintain = true): Promise<PgBoss> {
  const boss = new PgBoss({
    db: { executeSql: (text, values) => pool.query(text, values) },
    schema: BOSS_SCHEMA,
    migrate: maintain,
    supervise: maintain,
    schedule: maintain,
  });
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  if (maintain && !(await boss.getQueue(EMAIL_QUEUE))) {
    await boss.createQueue(EMAIL_QUEUE, { name: EMAIL_QUEUE, retryLimit: 3, retryDelay: 1 });
  }
  return boss;
}
