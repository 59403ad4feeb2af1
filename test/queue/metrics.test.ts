import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { register } from 'prom-client';
import { countAcceptedEmail, trackQueueDepth } from '../../app/src/queue/email-metrics.js';
import { QUEUE_DEPTH_MAX_AGE_MS, QueueDepth } from '../../app/src/queue/queue-depth.js';
import { startQueueWorkers } from '../../app/src/queue/workers.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

/** The value of one series in the Prometheus text exposition, 0 when absent. */
async function sample(name: string, labels = ''): Promise<number> {
  const text = await register.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('delivery metrics in the default Prometheus registry', () => {
  let fx: QueueFixture;
  before(async () => {
    fx = await startQueueFixture();
  });
  after(() => fx.close());

  it('counts accepted, queued, delivered, bounced and SMTP timings and errors', async () => {
    const accepted = await sample('selfmx_emails_total');
    countAcceptedEmail(4);
    assert.equal(await sample('selfmx_emails_total'), accepted + 4);

    await fx.insertEmails(3);
    await fx.insertEmail({ to: ['gone@example.net'] });
    trackQueueDepth(fx.pool);
    assert.equal(await sample('selfmx_emails_queued'), 4, 'read from the table at scrape time');

    fx.sink.rejectRecipient('gone@example.net', { code: 550, message: 'mailbox unavailable' });
    fx.sink.setReplyDelay(300);
    const workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig({ workers: 1 }), smtp: fx.smtpConfig() },
      logger: fx.logger,
      tuning: { pollIntervalMs: 100 },
    });
    await fx.sink.waitForMessages(1);
    assert.ok((await sample('selfmx_smtp_connections')) >= 1, 'a pooled connection is open');
    await fx.waitUntilSettled();
    await workers.stop();

    // (A timer may fire a millisecond early by performance.now(), which the count's age uses.)
    await sleep(QUEUE_DEPTH_MAX_AGE_MS + 10);
    assert.equal(await sample('selfmx_emails_queued'), 0, 'counted again once a second old');
    assert.equal(await sample('selfmx_emails_delivered_total'), 3);
    assert.equal(await sample('selfmx_emails_bounced_total'), 1);
    assert.equal(await sample('selfmx_emails_failed_total'), 0);
    assert.equal(await sample('selfmx_smtp_errors_total', '{kind="permanent"}'), 1);
    assert.equal(
      await sample('selfmx_smtp_send_duration_seconds_count', '{outcome="delivered"}'),
      3,
    );
    assert.equal(await sample('selfmx_smtp_connections'), 0, 'the pool is closed after stop');
  });

  it('queue depth: concurrent readers share one count; a fresh value is reused, then recounted', async () => {
    await fx.insertEmails(2);
    const shared = new QueueDepth(fx.pool, 60_000);
    const depths = await Promise.all(Array.from({ length: 200 }, () => shared.read()));
    assert.equal(shared.queries, 1, 'one query for 200 concurrent readers');
    assert.ok(depths.every((depth) => depth === depths[0] && depth >= 2));
    await fx.insertEmails(1);
    assert.equal(await shared.read(), depths[0], 'within its age the value is reused');
    assert.equal(shared.queries, 1);

    const fresh = new QueueDepth(fx.pool, 0);
    assert.equal(await fresh.read(), (depths[0] ?? 0) + 1);
    assert.equal(await fresh.read(), (depths[0] ?? 0) + 1);
    assert.equal(fresh.queries, 2, 'past its age the depth is counted again');
  });

  it('queue depth: a failed count is shared too, and reported to every reader', async () => {
    // A real pool whose server refuses connections (nothing listens on port 1).
    const unreachable = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'selfmx' });
    const failing = new QueueDepth(unreachable);
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => failing.read()));
    assert.ok(outcomes.every((outcome) => outcome.status === 'rejected'));
    assert.equal(failing.queries, 1);
    await unreachable.end();
  });
});
