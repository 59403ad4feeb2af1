import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Resend } from 'resend';
import { createLogger } from '../../app/src/logger.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import type { TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import {
  type ApiServer,
  BOOTSTRAP_KEY,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

/**
 * Scheduled sending through Resend's SDK, with real workers and a real SMTP sink: an email is
 * delivered at its time and never before; a canceled one is never delivered.
 */
describe('scheduled sending', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let server: ApiServer;
  let queue: QueueWorkers;
  let resend: Resend;

  before(async () => {
    postgres = await startMigratedPostgres();
    sink = await startSmtpSink({ starttls: false });
    server = await startApiServer(postgres, {
      RATE_LIMIT_REQUESTS: '10000',
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS: 'false',
    });
    queue = await startQueueWorkers({
      pool: server.pool,
      config: server.config,
      logger: createLogger({ level: 'silent', format: 'json' }),
      tuning: { pollIntervalMs: 50 },
    });
    resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${server.url}/v1` });
  });
  after(async () => {
    await queue?.stop();
    await server?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  const message = (subject: string) => ({
    from: 'Acme <hello@acme.example>',
    to: ['ana@example.com'],
    subject,
    text: 'Later',
  });

  async function statusOf(id: string): Promise<{ status: string; scheduled_at: string | null }> {
    const got = await server.call('GET', `/v1/emails/${id}`);
    assert.equal(got.status, 200, got.text);
    return got.body;
  }

  test('emails.send with scheduledAt, then emails.update, then emails.cancel', async () => {
    const sent = await resend.emails.send({ ...message('Scheduled A'), scheduledAt: 'in 1 hour' });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    const id = sent.data?.id ?? '';
    const scheduled = await statusOf(id);
    assert.equal(scheduled.status, 'scheduled');
    const inAnHour = Date.parse(scheduled.scheduled_at ?? '') - Date.now();
    assert.ok(inAnHour > 3_500_000 && inAnHour <= 3_600_000, String(inAnHour));

    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const updated = await resend.emails.update({ id, scheduledAt: later });
    assert.equal(updated.error, null, JSON.stringify(updated.error));
    assert.deepEqual(updated.data, { object: 'email', id });
    assert.equal((await statusOf(id)).scheduled_at, later);

    const canceled = await resend.emails.cancel(id);
    assert.equal(canceled.error, null, JSON.stringify(canceled.error));
    assert.equal((await statusOf(id)).status, 'canceled');
    const again = await resend.emails.update({ id, scheduledAt: 'in 5 min' });
    assert.equal(again.error?.statusCode, 409);

    const { rows } = await server.pool.query<{ type: string }>(
      'SELECT type FROM email_events WHERE email_id = $1 ORDER BY id',
      [id],
    );
    assert.deepEqual(
      rows.map((row) => row.type),
      ['scheduled', 'scheduled', 'canceled'],
    );
  });

  test('an email scheduled 4 s ahead is delivered after its time; a canceled one never', async () => {
    // Both for the same time, which leaves the three requests before it seconds even on a busy
    // machine: a canceled email that the worker still claimed would arrive with the other.
    const at = new Date(Date.now() + 4000);
    const canceled = await resend.emails.send({
      ...message('Never'),
      scheduledAt: at.toISOString(),
    });
    assert.equal(canceled.error, null, JSON.stringify(canceled.error));
    assert.equal((await resend.emails.cancel(canceled.data?.id ?? '')).error, null);
    const sent = await resend.emails.send({ ...message('On time'), scheduledAt: at.toISOString() });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    const [received] = await sink.waitForMessages(1, 60_000);
    assert.equal(received?.header('subject'), 'On time');
    assert.ok(
      (received?.receivedAt.getTime() ?? 0) >= at.getTime(),
      `received at ${received?.receivedAt.toISOString()}, scheduled for ${at.toISOString()}`,
    );
    // The worker records the outcome after the relay has the message.
    let status = (await statusOf(sent.data?.id ?? '')).status;
    for (let i = 0; i < 300 && status === 'sending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await statusOf(sent.data?.id ?? '')).status;
    }
    assert.equal(status, 'delivered');
    // Past the canceled email's time, the sink has only the one message.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      sink.messages.map((received) => received.header('subject')),
      ['On time'],
    );
    const cancelAfterSend = await resend.emails.cancel(sent.data?.id ?? '');
    assert.equal(cancelAfterSend.error?.statusCode, 409);
  });

  test('scheduled_at: natural language, offsets, past, too far and nonsense', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '+00:00');
    const accepted = ['in 2 hours', 'tomorrow at 9am', 'In 30 Days', inAnHour];
    for (const scheduledAt of accepted) {
      const sent = await resend.emails.send({ ...message('Phrase'), scheduledAt });
      assert.equal(sent.error, null, `${scheduledAt}: ${JSON.stringify(sent.error)}`);
    }
    const refused = [
      '2099-01-01T09:00:00+01:00',
      new Date(Date.now() + 40 * 86_400_000).toISOString(),
      '2020-01-01T00:00:00Z',
      '2030-01-01T09:00:00',
      'next tuesday',
      'in 5 fortnights',
    ];
    for (const scheduledAt of refused) {
      const sent = await resend.emails.send({ ...message('Refused'), scheduledAt });
      assert.equal(sent.error?.statusCode, 422, scheduledAt);
      assert.match(sent.error?.message ?? '', /^scheduled_at: /, scheduledAt);
    }
  });
});
