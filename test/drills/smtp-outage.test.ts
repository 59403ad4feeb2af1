import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.js';
import {
  type DrillEnvironment,
  emailIdOfMessage,
  eventually,
  sendAccepted,
  startDrillEnvironment,
  statusCounts,
} from './support/drill-environment.js';
import { subscribeWebhook, WEBHOOK_DRILL_SETTINGS } from './support/drill-webhooks.js';
import { startTcpGate, type TcpGate } from './support/tcp-gate.js';

const EMAILS = 5;
const RETRY_ATTEMPTS = 3;
/**
 * Attempts that outlast the retry window before retries went by age: 1 + QUEUE_RETRY_ATTEMPTS
 * attempts used to fail an email (1 + 2 + 4 s of backoff here; 7 minutes with the defaults).
 */
const PAST_THE_OLD_WINDOW = RETRY_ATTEMPTS + 3;

/**
 * Drill: the SMTP relay is unreachable for a while (maintenance, network cut). Guarantees: the
 * API keeps accepting; emails stay queued and are retried with backoff for up to QUEUE_MAX_AGE,
 * however many attempts that takes (a refused connection is not an answer QUEUE_RETRY_ATTEMPTS
 * counts); each email announces `email.delivery_delayed` once to its webhooks; /health stays 200
 * so the containers are not restarted; everything is delivered exactly once when the relay is
 * back.
 */
describe('drill: SMTP server down for a while', { timeout: 180_000 }, () => {
  let env: DrillEnvironment;
  let gate: TcpGate;
  let receiver: WebhookReceiver;

  before(async () => {
    env = await startDrillEnvironment();
    gate = await startTcpGate(env.sink);
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.stop();
    await gate?.stop();
    await env?.close();
  });

  it('keeps emails queued past the old retry window, announces the delay, and delivers each once', async () => {
    const app = await env.startApp({
      ...WEBHOOK_DRILL_SETTINGS,
      SMTP_PORT: String(gate.port),
      QUEUE_WORKERS: '2',
      QUEUE_RETRY_DELAY: '1',
      QUEUE_MAX_RETRY_DELAY: '2',
      QUEUE_RETRY_ATTEMPTS: String(RETRY_ATTEMPTS),
      QUEUE_DELAY_NOTICE: '2',
    });
    await subscribeWebhook(app, env.apiKey, receiver, ['email.delivery_delayed']);
    await gate.close();
    const accepted = await sendAccepted(app, env.apiKey, EMAILS);

    await eventually(
      `${PAST_THE_OLD_WINDOW} refused attempts for every email`,
      async () => {
        const { rows } = await env.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM emails WHERE id = ANY($1::uuid[]) AND attempts >= $2`,
          [accepted, PAST_THE_OLD_WINDOW],
        );
        return rows[0]?.n === EMAILS;
      },
      90_000,
    );
    const during = await statusCounts(env, accepted);
    assert.deepEqual(
      Object.keys(during).filter((status) => status !== 'queued' && status !== 'sending'),
      [],
      `while the relay is down emails wait in the queue: ${JSON.stringify(during)}`,
    );
    assert.equal(env.sink.messages.length, 0);
    const health = await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(10_000) });
    const healthBody = (await health.json()) as { smtp?: string };
    assert.equal(health.status, 200, 'an SMTP outage does not fail /health');
    assert.equal(healthBody.smtp, 'unreachable');

    await receiver.waitFor(
      (received) => new Set(received.map((r) => r.payload.data.email_id)).size === EMAILS,
      30_000,
    );

    await gate.open();
    await eventually(
      'every email to be delivered after the relay returned',
      async () => (await statusCounts(env, accepted)).delivered === EMAILS,
      60_000,
    );
    const arrivals = env.sink.messages.map((message) =>
      emailIdOfMessage(message.header('message-id')),
    );
    assert.deepEqual(
      [...arrivals].sort(),
      [...accepted].sort(),
      'every accepted email reached the relay, exactly once',
    );
    const delayed = receiver.received.filter((r) => r.payload.type === 'email.delivery_delayed');
    assert.deepEqual(
      delayed.map((r) => r.payload.data.email_id).sort(),
      [...accepted].sort(),
      'one email.delivery_delayed per email',
    );
    await app.stop();
  });
});
