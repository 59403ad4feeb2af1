import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Resend } from 'resend';
import { createLogger } from '../../app/src/logger.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import {
  startWebhookWorkers,
  type WebhookWorkers,
} from '../../app/src/webhooks/webhook-workers.js';
import {
  type ApiServer,
  BOOTSTRAP_KEY,
  startApiServer,
  startMigratedPostgres,
} from '../api/api-harness.js';
import type { TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * The suppression list, end to end: a 550 puts the address on it, a later send to it never
 * reaches the relay and emits email.suppressed, and the list is managed through Resend's SDK.
 */
describe('suppression list', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let server: ApiServer;
  let queue: QueueWorkers;
  let webhooks: WebhookWorkers;
  let resend: Resend;
  let receiver: WebhookReceiver;

  before(async () => {
    postgres = await startMigratedPostgres();
    sink = await startSmtpSink();
    server = await startApiServer(postgres, {
      RATE_LIMIT_REQUESTS: '10000',
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS: 'true',
      SMTP_TLS_VERIFY: 'false',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
      WEBHOOK_RETRY_DIVISOR: '1000',
    });
    const logger = createLogger({ level: 'silent', format: 'json' });
    queue = await startQueueWorkers({
      pool: server.pool,
      config: server.config,
      logger,
      tuning: { pollIntervalMs: 50 },
    });
    webhooks = startWebhookWorkers({
      pool: server.pool,
      config: server.config.webhooks,
      logger,
      tuning: { pollIntervalMs: 50 },
    });
    resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${server.url}/v1` });
    receiver = await startWebhookReceiver();
    const created = await resend.webhooks.create({
      endpoint: receiver.url,
      events: ['email.bounced', 'email.suppressed', 'suppression.added', 'suppression.removed'],
    });
    assert.equal(created.error, null, JSON.stringify(created.error));
    receiver.secret = created.data?.signing_secret ?? '';
  });
  after(async () => {
    await receiver?.stop();
    await webhooks?.stop();
    await queue?.stop();
    await server?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  async function send(to: string[]) {
    const sent = await resend.emails.send({
      from: 'Acme <hello@acme.example>',
      to,
      subject: `Hello ${to.join(', ')}`,
      text: 'hi',
    });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    return sent.data?.id ?? '';
  }

  async function settled(id: string) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const got = await server.call('GET', `/v1/emails/${id}`);
      if (!['queued', 'sending'].includes(got.body.status)) return got.body;
      assert.ok(Date.now() < deadline, `email ${id} stayed ${got.body.status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  test('a 550 suppresses the address; a later send skips the relay for it and emits email.suppressed', async () => {
    sink.rejectRecipient('dead@example.net', { code: 550, message: 'No such user here' });
    const bounced = await send(['dead@example.net']);
    assert.equal((await settled(bounced)).status, 'bounced');
    await receiver.waitFor((got) => got.some((r) => r.payload.type === 'suppression.added'));
    const added = receiver.received.find((r) => r.payload.type === 'suppression.added');
    assert.equal(added?.payload.data.email, 'dead@example.net');
    assert.equal(added?.payload.data.origin, 'bounce');
    assert.equal(added?.payload.data.source_id, bounced);

    const entry = await resend.suppressions.get('dead@example.net');
    assert.equal(entry.data?.origin, 'bounce');
    assert.equal(entry.data?.source_id, bounced);

    // The domain part matches in any case; the other recipient is still delivered.
    const tried = sink.recipientsTried.length;
    const later = await send(['dead@EXAMPLE.Net', 'alive@example.net']);
    const email = await settled(later);
    assert.equal(email.status, 'delivered');
    assert.deepEqual(
      email.recipients.map((r: { email: string; status: string }) => [r.email, r.status]),
      [
        ['dead@EXAMPLE.Net', 'suppressed'],
        ['alive@example.net', 'delivered'],
      ],
    );
    assert.deepEqual(sink.recipientsTried.slice(tried), ['alive@example.net']);

    const alone = await send(['dead@example.net']);
    assert.equal((await settled(alone)).status, 'suppressed');
    assert.deepEqual(sink.recipientsTried.slice(tried), ['alive@example.net'], 'relay untouched');

    await receiver.waitFor(
      (got) => got.filter((r) => r.payload.type === 'email.suppressed').length === 2,
    );
    const suppressed = receiver.received.filter((r) => r.payload.type === 'email.suppressed');
    assert.deepEqual(
      suppressed.map((r) => [r.payload.data.email_id, r.payload.data.to]),
      [
        [later, ['dead@EXAMPLE.Net']],
        [alone, ['dead@example.net']],
      ],
    );
    assert.equal(
      (suppressed[0]?.payload.data.suppressed as { type?: string } | undefined)?.type,
      'OnAccountSuppressionList',
    );
  });

  test('addresses are added and removed by hand through the SDK, audited, with webhook events', async () => {
    const added = await resend.suppressions.add({ email: 'Manual@Example.ORG' });
    assert.equal(added.error, null, JSON.stringify(added.error));
    const listed = await resend.suppressions.list({ origin: 'manual' });
    assert.deepEqual(
      listed.data?.data.map((entry) => [entry.email, entry.origin]),
      [['Manual@example.org', 'manual']],
    );
    const removed = await resend.suppressions.remove('manual@example.org');
    assert.equal(removed.error?.name, 'not_found', 'the local part keeps its case');
    const removedRight = await resend.suppressions.remove('Manual@EXAMPLE.org');
    assert.deepEqual(removedRight.data, {
      object: 'suppression',
      id: added.data?.id,
      deleted: true,
    });
    await receiver.waitFor((got) => got.some((r) => r.payload.type === 'suppression.removed'));
    const { rows } = await server.pool.query(
      `SELECT action FROM audit_logs WHERE target_id = $1 ORDER BY id`,
      [added.data?.id],
    );
    assert.deepEqual(
      rows.map((row) => row.action),
      ['suppression.added', 'suppression.removed'],
    );
  });
});
