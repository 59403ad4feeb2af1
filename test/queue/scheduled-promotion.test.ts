import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { startQueueWorkers } from '../../app/src/queue/workers.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const PROMOTION = 'selfmx_promote_scheduled';

describe('scheduled-email promotion by the queue workers', () => {
  let fx: QueueFixture;
  before(async () => {
    fx = await startQueueFixture();
  });
  after(() => fx.close());

  it('promotes due scheduled emails at most once a second, not before every claim', async () => {
    const queued = await fx.insertEmails(60);
    const scheduled = await fx.insertEmail({ subject: 'scheduled' });
    await fx.pool.query(
      `UPDATE emails SET status = 'scheduled', next_attempt_at = now() - interval '1 second'
        WHERE id = $1`,
      [scheduled],
    );
    // Counts the workers' statements on their way to PostgreSQL; each still runs.
    const statements = { promotions: 0, claims: 0 };
    const query = fx.pool.query.bind(fx.pool) as (...args: unknown[]) => Promise<unknown>;
    fx.pool.query = ((...args: unknown[]) => {
      const config = args[0] as string | pg.QueryConfig;
      const text = typeof config === 'string' ? config : config.text;
      if (typeof config === 'object' && config.name === PROMOTION) statements.promotions += 1;
      if (text.includes('AS worker_id')) statements.claims += 1;
      return query(...args);
    }) as typeof fx.pool.query;
    const began = performance.now();
    const workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig({ workers: 4 }), smtp: fx.smtpConfig() },
      logger: fx.logger,
      // One email per claim: many claims, each of which used to promote first.
      tuning: { batchSize: 1, pollIntervalMs: 100 },
    });
    try {
      await fx.waitUntilSettled(60_000);
    } finally {
      await workers.stop();
      delete (fx.pool as { query?: unknown }).query;
    }
    const elapsedSeconds = (performance.now() - began) / 1000;

    for (const id of [...queued, scheduled]) assert.equal((await fx.email(id)).status, 'delivered');
    assert.ok(statements.claims >= 61 / 4, `only ${statements.claims} claims`);
    assert.ok(
      statements.promotions <= 1 + elapsedSeconds,
      `${statements.promotions} promotions for ${statements.claims} claims in ${elapsedSeconds} s`,
    );
  });
});
