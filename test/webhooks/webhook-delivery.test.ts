import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { register } from 'prom-client';
import { Resend } from 'resend';
import { createLogger } from '../../app/src/logger.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { sendWebhook } from '../../app/src/webhooks/send-webhook.js';
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
 * Events of real deliveries (API → queue → SMTP sink) reach real HTTP receivers, signed per
 * Standard Webhooks, retried on a schedule shortened by WEBHOOK_RETRY_DIVISOR=1000.
 */
describe('webhook delivery', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let server: ApiServer;
  let queue: QueueWorkers;
  let webhooks: WebhookWorkers;
  let resend: Resend;
  const receivers: WebhookReceiver[] = [];

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
      // Long enough that two quick failures on a busy machine do not disable an endpoint that
      // then succeeds; the schedule divided by 1000 still fails one for 5 s within ~10 s.
      WEBHOOK_DISABLE_AFTER: '5',
      WEBHOOK_WORKERS: '4',
      WEBHOOK_ENDPOINT_CONCURRENCY: '1',
    });
    const logger = createLogger({ level: 'silent', format: 'json' });
    queue = await startQueueWorkers({ pool: server.pool, config: server.config, logger });
    webhooks = startWebhookWorkers({
      pool: server.pool,
      config: server.config.webhooks,
      logger,
      tuning: { pollIntervalMs: 50 },
    });
    resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${server.url}/v1` });
  });
  after(async () => {
    for (const receiver of receivers) await receiver.stop();
    await webhooks?.stop();
    await queue?.stop();
    await server?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  async function subscribe(events: ('email.sent' | 'email.delivered' | 'email.bounced')[]) {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const created = await resend.webhooks.create({ endpoint: receiver.url, events });
    assert.equal(created.error, null, JSON.stringify(created.error));
    receiver.secret = created.data?.signing_secret ?? '';
    return { receiver, webhookId: created.data?.id ?? '' };
  }

  async function send(to: string) {
    const sent = await resend.emails.send({
      from: 'Acme <hello@acme.example>',
      to: [to],
      subject: `Hello ${to}`,
      text: 'hi',
      tags: [{ name: 'kind', value: 'test' }],
    });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    return sent.data?.id ?? '';
  }

  test('a receiver that answers 500 for a while gets each event once as a success, same webhook-id on every attempt', async () => {
    const { receiver, webhookId } = await subscribe(['email.sent', 'email.delivered']);
    // Every event fails twice (500), then succeeds.
    receiver.behaviour = ({ count }) => (count <= 2 ? 500 : 200);
    const emailId = await send('first@example.net');
    await receiver.waitFor((got) => got.filter((r) => r.status === 200).length >= 2);

    const successes = receiver.received.filter((r) => r.status === 200);
    assert.deepEqual(successes.map((r) => r.payload.type).sort(), [
      'email.delivered',
      'email.sent',
    ]);
    assert.equal(new Set(successes.map((r) => r.id)).size, 2, 'one success per event');
    for (const success of successes) {
      const attempts = receiver.received.filter((r) => r.id === success.id);
      assert.deepEqual(
        attempts.map((r) => r.status),
        [500, 500, 200],
      );
      assert.deepEqual(
        attempts.map((r) => r.body),
        [success.body, success.body, success.body],
        'the same message on every attempt',
      );
    }
    const delivered = successes.find((r) => r.payload.type === 'email.delivered');
    assert.equal(delivered?.payload.data.email_id, emailId);
    assert.equal(delivered?.payload.data.from, '"Acme" <hello@acme.example>');
    assert.deepEqual(delivered?.payload.data.to, ['first@example.net']);
    assert.equal(delivered?.payload.data.subject, 'Hello first@example.net');
    assert.deepEqual(delivered?.payload.data.tags, { kind: 'test' });

    // The event log through the SDK: listed, read, its attempts, and a replay.
    // The receiver answers before the worker records the attempt's outcome.
    let listed = await resend.webhooks.events.list({ webhookId });
    for (let i = 0; i < 300 && listed.data?.data.some((event) => event.status !== 'success'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      listed = await resend.webhooks.events.list({ webhookId });
    }
    assert.deepEqual(
      listed.data?.data.map((event) => event.status),
      ['success', 'success'],
    );
    const eventId = delivered?.id ?? '';
    const got = await resend.webhooks.events.get({ webhookId, eventId });
    assert.equal(got.data?.type, 'email.delivered');
    assert.equal(got.data?.next_attempt_at, null);
    assert.deepEqual(got.data?.payload, delivered?.payload);
    const attempts = await resend.webhooks.events.attempts.list({ webhookId, eventId });
    assert.deepEqual(
      attempts.data?.data.map((attempt) => [attempt.http_status_code, attempt.response]),
      [
        [500, 'answered 500'],
        [500, 'answered 500'],
        [200, 'answered 200'],
      ],
    );
    const replayed = await resend.webhooks.events.replay({ webhookId, eventId });
    assert.deepEqual(replayed.data, { object: 'webhook_event', id: eventId });
    await receiver.waitFor((all) => all.filter((r) => r.id === eventId).length === 4);
    assert.equal(receiver.received.at(-1)?.id, eventId, 'a replay keeps the webhook-id');
  });

  test('a dead endpoint holds one request slot and delays neither other endpoints nor email', async () => {
    const dead = await subscribe(['email.sent', 'email.delivered']);
    dead.receiver.behaviour = () => 'hang';
    const alive = await subscribe(['email.sent', 'email.delivered']);
    const before = sink.messages.length;
    for (let index = 0; index < 5; index++) await send(`many-${index}@example.net`);
    await sink.waitForMessages(before + 5);
    await alive.receiver.waitFor(
      (got) =>
        got.filter((r) => r.payload.data.subject?.toString().startsWith('Hello many-')).length ===
        10,
    );
    assert.equal(dead.receiver.hanging, 1, 'WEBHOOK_ENDPOINT_CONCURRENCY=1: one request in flight');
    assert.equal(dead.receiver.received.length, 0);
    await resend.webhooks.update(dead.webhookId, { status: 'disabled' });
  });

  test('an endpoint that fails every attempt for WEBHOOK_DISABLE_AFTER is disabled, audited and counted', async () => {
    const failing = await subscribe(['email.sent']);
    failing.receiver.behaviour = () => 503;
    await send('disable@example.net');
    const deadline = Date.now() + 60_000;
    while ((await resend.webhooks.get(failing.webhookId)).data?.status !== 'disabled') {
      assert.ok(Date.now() < deadline, 'the endpoint was not disabled');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const { rows } = await server.pool.query(
      `SELECT action, actor_key_id FROM audit_logs WHERE target_id = $1 AND action = 'webhook.disabled'`,
      [failing.webhookId],
    );
    assert.equal(rows.length, 1);
    const metrics = await register.metrics();
    assert.match(metrics, /^selfmx_webhook_endpoints_disabled_total [1-9]/m);
    assert.match(metrics, /^selfmx_webhook_attempts_total\{outcome="failure"\} [1-9]/m);
    assert.match(metrics, /^selfmx_webhook_outbox_backlog \d+/m);
  });

  test('private addresses are refused at delivery time without a request: a DNS name for 127.0.0.1, 169.254.169.254, 10.x', async () => {
    const receiver = await startWebhookReceiver();
    receivers.push(receiver);
    const port = new URL(receiver.url).port;
    const policy = {
      allowPrivate: false,
      allowHttpHosts: ['localhost', '169.254.169.254', '10.1.2.3'],
    };
    for (const url of [
      `http://localhost:${port}/hooks`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/hooks',
      'https://[::1]/hooks',
    ]) {
      const result = await sendWebhook({ url, body: '{}', headers: {} }, policy);
      assert.equal(result.refused, true, url);
      assert.match(result.response, /loopback, private, link-local or metadata address/, url);
    }
    assert.equal(receiver.received.length + receiver.hanging, 0, 'nothing reached the receiver');

    // The bootstrap key's requests count on the shared database: the same budget as `server`.
    const strict = await startApiServer(postgres, {
      RATE_LIMIT_REQUESTS: '10000',
      WEBHOOK_ALLOW_HTTP_HOSTS: 'localhost',
    });
    try {
      const sdk = new Resend(BOOTSTRAP_KEY, { baseUrl: `${strict.url}/v1` });
      const refused = await sdk.webhooks.create({
        endpoint: receiver.url.replace('127.0.0.1', 'localhost'),
        events: ['email.sent'],
      });
      assert.equal(refused.error?.statusCode, 422);
      assert.match(
        refused.error?.message ?? '',
        /^endpoint: host localhost resolves to (127\.0\.0\.1|::1)/,
      );
    } finally {
      await strict.close();
    }
  });
});
