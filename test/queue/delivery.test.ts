import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { LISTENER_APPLICATION_NAME } from '../../app/src/queue/queue-listener.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { messageIdFor } from '../../app/src/smtp/build-message.js';
import { smtpHealth } from '../../app/src/smtp/smtp-health.js';
import { leafParts } from '../support/mime.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

describe('queue delivery through a real SMTP server', () => {
  let fx: QueueFixture;
  let workers: QueueWorkers | undefined;

  before(async () => {
    fx = await startQueueFixture({ requireTls: true });
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
    fx.sink.reset();
  });
  after(() => fx.close());

  const start = async (
    queue: Parameters<QueueFixture['queueConfig']>[0] = {},
    tuning: { pollIntervalMs?: number; leaseSeconds?: number } = {},
  ) => {
    workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig(queue), smtp: fx.smtpConfig() },
      logger: fx.logger,
      tuning: { pollIntervalMs: 100, ...tuning },
    });
    return workers;
  };

  it('delivers with the right envelope, headers, bodies, attachment and a stable Message-ID', async () => {
    const id = await fx.insertEmail({
      from: '"Acme Billing" <billing@acme.example>',
      to: ['alice@example.net', 'bob@example.net'],
      cc: ['carol@example.net'],
      bcc: ['audit@example.org'],
      replyTo: ['support@acme.example'],
      subject: 'Your invoice – März',
      html: '<p>Hello <b>Alice</b></p>',
      text: 'Hello Alice',
      headers: { 'X-Entity-Ref-ID': 'inv-42', 'List-Unsubscribe': '<mailto:u@acme.example>' },
      attachments: [
        { filename: 'invoice.txt', content: Buffer.from('total: 42 EUR').toString('base64') },
      ],
    });
    await start();
    const [message] = await fx.sink.waitForMessages(1);
    assert.ok(message);
    await fx.waitUntilSettled();

    assert.deepEqual(message.envelope, {
      from: 'billing@acme.example',
      to: ['alice@example.net', 'bob@example.net', 'carol@example.net', 'audit@example.org'],
    });
    assert.equal(message.secure, true, 'STARTTLS was used');
    assert.equal(message.header('from'), 'Acme Billing <billing@acme.example>');
    assert.equal(message.header('to'), 'alice@example.net, bob@example.net');
    assert.equal(message.header('cc'), 'carol@example.net');
    assert.equal(message.header('bcc'), undefined, 'bcc is never a header');
    assert.doesNotMatch(
      message.raw,
      /audit@example\.org/,
      'the bcc address appears nowhere in the message',
    );
    assert.equal(message.header('reply-to'), 'support@acme.example');
    assert.match(message.header('subject') ?? '', /^=\?UTF-8\?/, 'non-ASCII subject is encoded');
    assert.equal(message.header('message-id'), `<${id}@acme.example>`);
    assert.equal(
      message.header('message-id'),
      messageIdFor({ id, fromAddress: 'x <billing@acme.example>' }),
    );
    assert.equal(message.header('x-entity-ref-id'), 'inv-42');
    assert.equal(message.header('list-unsubscribe'), '<mailto:u@acme.example>');

    const leaves = leafParts(message.mime);
    assert.equal(
      leaves.find((p) => p.contentType === 'text/plain')?.body.toString(),
      'Hello Alice',
    );
    assert.equal(
      leaves.find((p) => p.contentType === 'text/html')?.body.toString(),
      '<p>Hello <b>Alice</b></p>',
    );
    assert.equal(
      leaves.find((p) => p.filename === 'invoice.txt')?.body.toString(),
      'total: 42 EUR',
    );

    assert.equal((await fx.email(id)).status, 'delivered');
    const events = await fx.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'sending', 'delivered'],
    );
    assert.match(events[2]?.smtp_response ?? '', /^250 /);
    assert.equal(smtpHealth().status, 'ok');
  });

  it('retries a 421, then delivers; the events carry each SMTP reply', async () => {
    fx.sink.failNextMessages(1, { code: 421, message: 'Too busy, try later' });
    const id = await fx.insertEmail();
    await start({ retryDelaySeconds: 0.2 });
    await fx.waitUntilSettled();

    assert.deepEqual(
      fx.sink.attempts.map((m) => m.reply.code),
      [421, 250],
    );
    assert.equal(fx.sink.messages.length, 1);
    const row = await fx.email(id);
    assert.equal(row.status, 'delivered');
    assert.equal(row.attempts, 2);
    assert.equal(row.last_error, null);
    const events = await fx.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'sending', 'deferred', 'sending', 'delivered'],
    );
    assert.match(events[2]?.smtp_response ?? '', /^421 .*Too busy/);
    // Both attempts carried the same Message-ID, so a receiver can tell a duplicate.
    const ids = new Set(fx.sink.attempts.map((m) => m.header('message-id')));
    assert.equal(ids.size, 1);
  });

  it('bounces a 550 once, without retrying', async () => {
    fx.sink.rejectRecipient('nobody@example.net', { code: 550, message: 'No such user here' });
    const id = await fx.insertEmail({ to: ['nobody@example.net'] });
    await start({ retryDelaySeconds: 0.1 });
    await fx.waitUntilSettled();

    const row = await fx.email(id);
    assert.equal(row.status, 'bounced');
    assert.equal(row.attempts, 1);
    assert.match(row.last_error ?? '', /550.*No such user/);
    const events = await fx.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'sending', 'bounced'],
    );
    assert.equal(fx.sink.attempts.length, 0);
  });

  it('delivers to the accepted recipients and records the ones the relay refused', async () => {
    fx.sink.rejectRecipient('gone@example.net', { code: 550, message: 'No such user here' });
    const id = await fx.insertEmail({ to: ['here@example.net', 'gone@example.net'] });
    await start();
    await fx.waitUntilSettled();
    assert.deepEqual(fx.sink.messages[0]?.envelope.to, ['here@example.net']);
    const row = await fx.email(id);
    assert.equal(row.status, 'delivered');
    assert.equal(row.last_error, null);
    const events = await fx.events(id);
    assert.deepEqual(
      events.slice(2).map((e) => e.type),
      ['delivered', 'bounced'],
    );
    assert.match(events[3]?.smtp_response ?? '', /550.*No such user/);
  });

  it('marks an email failed once QUEUE_RETRY_ATTEMPTS retries are used up', async () => {
    fx.sink.failNextMessages(10, { code: 451, message: 'Local error in processing' });
    const id = await fx.insertEmail();
    await start({ retryAttempts: 2, retryDelaySeconds: 0.1 });
    await fx.waitUntilSettled();

    const row = await fx.email(id);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 3, 'the first attempt and 2 retries');
    assert.equal(fx.sink.attempts.length, 3);
    const events = await fx.events(id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'sending', 'deferred', 'sending', 'deferred', 'sending', 'failed'],
    );
    assert.match(events.at(-1)?.detail ?? '', /gave up after 3 attempts/);
  });

  it('refuses a header with a line break without sending anything', async () => {
    const id = await fx.insertEmail({ headers: { 'X-Note': 'a\r\nBcc: victim@example.org' } });
    await start();
    await fx.waitUntilSettled();
    assert.equal((await fx.email(id)).status, 'failed');
    assert.equal(fx.sink.attempts.length, 0);
    const events = await fx.events(id);
    assert.match(events.at(-1)?.detail ?? '', /line break/);
  });

  it('wakes on NOTIFY without waiting for the poll interval, also after the listener reconnects', async () => {
    // With a 10-minute poll, only the NOTIFY can explain a delivery within the bounded wait.
    await start({}, { pollIntervalMs: 600_000 });
    await fx.insertEmail({}, true);
    await fx.sink.waitForMessages(1, 30_000);

    const admin = await fx.postgres.client();
    try {
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [LISTENER_APPLICATION_NAME],
      );
      assert.equal(killed.rowCount, 1);
      // The listener reconnects with backoff; wait until it is LISTENing again.
      for (let i = 0; i < 300; i++) {
        const { rowCount } = await admin.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`,
          [LISTENER_APPLICATION_NAME],
        );
        if (rowCount === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.end();
    }
    await fx.insertEmail({}, true);
    await fx.sink.waitForMessages(2, 30_000);
  });

  it('renews the lease while a slow relay answers, so another process never claims the email', async () => {
    // Sends last 2.5 leases, so an unrenewed lease expires mid-send; the lease is long enough that
    // a renewal (every third of it) delayed by a busy machine still lands in time, and the SMTP
    // timeout longer than a send.
    fx.sink.setReplyDelay(7500);
    const ids = await fx.insertEmails(4);
    const tuning = { pollIntervalMs: 50, leaseSeconds: 3 };
    const config = { queue: fx.queueConfig(), smtp: fx.smtpConfig({ timeoutSeconds: 30 }) };
    const [first, second] = await Promise.all([
      startQueueWorkers({ pool: fx.pool, config, logger: fx.logger, tuning }),
      startQueueWorkers({ pool: fx.pool, config, logger: fx.logger, tuning }),
    ]);
    try {
      await fx.waitUntilSettled(60_000);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    assert.equal(
      fx.sink.attempts.length,
      4,
      'each email was sent once, though sends outlast the lease',
    );
    for (const id of ids) {
      const types = (await fx.events(id)).map((e) => e.type);
      assert.deepEqual(types, ['queued', 'sending', 'delivered']);
    }
  });

  it("records a claimed batch's outcomes in one transaction, after its sends", async () => {
    const ids = await fx.insertEmails(10);
    await start({ workers: 1 });
    await fx.waitUntilSettled();
    // Rows updated by one transaction share its id (xmin): one statement settled the batch.
    const { rows } = await fx.pool.query<{ status: string; transactions: number }>(
      `SELECT status, count(DISTINCT xmin::text)::int AS transactions
         FROM emails WHERE id = ANY($1::uuid[]) GROUP BY status`,
      [ids],
    );
    assert.deepEqual(rows, [{ status: 'delivered', transactions: 1 }]);
    assert.equal(fx.sink.messages.length, 10);
  });

  it('finishes the sends in flight when stopped', async () => {
    fx.sink.setReplyDelay(700);
    const ids = await fx.insertEmails(3);
    const running = await start();
    // Stop once all three are claimed and at least one is still on its way to the (slow) relay.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await fx.pool.query<{ queued: number; sending: number }>(
        `SELECT count(*) FILTER (WHERE status = 'queued')::int AS queued,
                count(*) FILTER (WHERE status = 'sending')::int AS sending
           FROM emails WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const { queued = 3, sending = 0 } = rows[0] ?? {};
      if (queued === 0) {
        assert.ok(sending > 0, 'every send had finished before the stop: nothing was in flight');
        break;
      }
      assert.ok(Date.now() < deadline, `${queued} of the emails were never claimed`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await running.stop();
    for (const id of ids) assert.equal((await fx.email(id)).status, 'delivered');
    assert.equal(fx.sink.messages.length, 3);
  });
});
