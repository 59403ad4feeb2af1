import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LISTENER_APPLICATION_NAME } from '../../app/src/queue/queue-listener.js';
import { startQueueWorkers } from '../../app/src/queue/workers.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('queue workers across a database restart', () => {
  let fx: QueueFixture;
  before(async () => {
    fx = await startQueueFixture();
  });
  after(() => fx.close());

  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 300; i++) {
      if (await check()) return;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  it('record a send that finished during the outage once the database is back, then LISTEN again', async () => {
    // A 10-minute poll: after the restart only the re-established LISTEN can wake the workers
    // within the bounded wait.
    const workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig(), smtp: fx.smtpConfig() },
      logger: fx.logger,
      tuning: { pollIntervalMs: 600_000 },
    });
    try {
      fx.sink.setReplyDelay(2500);
      const inFlight = await fx.insertEmail({}, true);
      await until('the claim', async () => (await fx.email(inFlight)).status === 'sending');

      await fx.postgres.stop();
      await until('the relay to accept during the outage', () => fx.sink.messages.length === 1);
      await fx.postgres.start();
      await fx.waitUntilSettled();
      assert.equal((await fx.email(inFlight)).status, 'delivered');
      assert.equal(fx.sink.attempts.length, 1, 'recorded late rather than sent twice');

      fx.sink.setReplyDelay(0);
      const admin = await fx.postgres.client();
      try {
        await until('the listener to reconnect', async () => {
          const { rowCount } = await admin.query(
            `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`,
            [LISTENER_APPLICATION_NAME],
          );
          return rowCount === 1;
        });
      } finally {
        await admin.end();
      }
      const after = await fx.insertEmail({}, true);
      await fx.sink.waitForMessages(2, 15_000);
      await fx.waitUntilSettled();
      assert.equal((await fx.email(after)).status, 'delivered');
    } finally {
      await workers.stop();
    }
  });
});
