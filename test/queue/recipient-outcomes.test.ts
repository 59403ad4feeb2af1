import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

/** Outcomes per recipient: 250, 450 and 550 in one email, then the 450 one on retry. */
describe('outcomes per recipient', () => {
  let fx: QueueFixture;
  let workers: QueueWorkers | undefined;

  before(async () => {
    fx = await startQueueFixture();
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
    fx.sink.reset();
  });
  after(() => fx.close());

  const recipients = async (id: string) => {
    const { rows } = await fx.pool.query<{ address: string; status: string }>(
      'SELECT address, status FROM email_recipients WHERE email_id = $1 ORDER BY address',
      [id],
    );
    return Object.fromEntries(rows.map((row) => [row.address, row.status]));
  };

  it('delivers to the 250, bounces the 550, retries only the 450 and delivers it', async () => {
    fx.sink.rejectRecipient('later@example.net', { code: 450, message: 'Mailbox busy, try later' });
    fx.sink.rejectRecipient('gone@example.net', { code: 550, message: 'No such user here' });
    const id = await fx.insertEmail({
      to: ['"Here" <here@example.net>', 'later@example.net'],
      cc: ['gone@example.net'],
    });
    workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig({ retryDelaySeconds: 1 }), smtp: fx.smtpConfig() },
      logger: fx.logger,
      tuning: { pollIntervalMs: 50 },
    });
    await fx.sink.waitForMessages(1);
    const waitFor = async (check: () => Promise<boolean>) => {
      const deadline = Date.now() + 15_000;
      while (!(await check())) {
        assert.ok(Date.now() < deadline, 'timed out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await waitFor(
      async () =>
        (await fx.email(id)).attempts === 1 && !!(await recipients(id))['later@example.net'],
    );

    assert.equal((await fx.email(id)).status, 'queued', 'a deferred recipient keeps it queued');
    assert.deepEqual(await recipients(id), {
      'gone@example.net': 'bounced',
      'here@example.net': 'delivered',
      'later@example.net': 'deferred',
    });
    assert.deepEqual(fx.sink.messages[0]?.envelope.to, ['here@example.net']);

    fx.sink.acceptRecipient('later@example.net');
    await fx.waitUntilSettled();
    const row = await fx.email(id);
    assert.equal(row.status, 'delivered');
    assert.equal(row.attempts, 2);
    assert.deepEqual(await recipients(id), {
      'gone@example.net': 'bounced',
      'here@example.net': 'delivered',
      'later@example.net': 'delivered',
    });
    assert.equal(fx.sink.messages.length, 2);
    assert.deepEqual(fx.sink.messages[1]?.envelope.to, ['later@example.net'], 'only it is resent');
    assert.equal(
      fx.sink.messages[1]?.header('cc'),
      'gone@example.net',
      'the headers stay the message’s own',
    );

    const events = await fx.pool.query<{ type: string; recipients: string[] | null }>(
      `SELECT type, recipients FROM email_events
        WHERE email_id = $1 AND type NOT IN ('queued', 'sending') ORDER BY id`,
      [id],
    );
    assert.deepEqual(
      events.rows.map((e) => [e.type, e.recipients]),
      [
        ['delivered', ['here@example.net']],
        ['deferred', ['later@example.net']],
        ['bounced', ['gone@example.net']],
        ['delivered', ['later@example.net']],
      ],
    );
  });
});
