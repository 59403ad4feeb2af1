import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.js';
import {
  type DrillEnvironment,
  eventually,
  sendAccepted,
  startDrillEnvironment,
} from './support/drill-environment.js';
import { subscribeWebhook, WEBHOOK_DRILL_SETTINGS } from './support/drill-webhooks.js';

/**
 * Drill: the process is SIGKILLed while a webhook request is in flight (the receiver has the
 * request and has not answered). Guarantee: the event stays in the outbox; after a restart it is
 * delivered, with the same webhook-id as the attempt that was cut off (at-least-once, so a
 * receiver deduplicates by webhook-id).
 */
describe('drill: SIGKILL mid-webhook-delivery', { timeout: 120_000 }, () => {
  let env: DrillEnvironment;
  let receiver: WebhookReceiver;

  before(async () => {
    env = await startDrillEnvironment();
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.stop();
    await env?.close();
  });

  it('loses no event, and the restarted app delivers it with the same webhook-id', async () => {
    const held: string[] = [];
    // The first request of each event is held: the app is killed while waiting for it.
    receiver.behaviour = ({ id, count }) => {
      if (count > 1) return 200;
      held.push(id);
      return 'hang';
    };
    const doomed = await env.startApp(WEBHOOK_DRILL_SETTINGS);
    await subscribeWebhook(doomed, env.apiKey, receiver, ['email.delivered']);
    const [emailId] = await sendAccepted(doomed, env.apiKey, 1);
    await eventually('the receiver to hold the delivery', async () => receiver.hanging === 1);

    doomed.child.kill('SIGKILL');
    await doomed.exited;
    await eventually('the killed process to leave PostgreSQL', async () => {
      const { rows } = await env.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'selfmx%'`,
      );
      return rows[0]?.n === 0;
    });
    const { rows: outbox } = await env.query<{ id: string; status: string }>(
      `SELECT id::text, status FROM webhook_events WHERE type = 'email.delivered'`,
    );
    assert.deepEqual(
      outbox.map((row) => row.status),
      ['attempting'],
      'the event is still claimed by the dead process',
    );
    assert.deepEqual(
      held,
      outbox.map((row) => row.id),
    );
    assert.equal(receiver.received.length, 0);

    // The dead process's claim lasts the request timeout plus 20 s; move it to "expired" rather
    // than wait (the state of the database half a minute later; the reclaim itself is the app's).
    await env.query(
      `UPDATE webhook_events SET next_attempt_at = now() WHERE status = 'attempting'`,
    );
    const restarted = await env.startApp(WEBHOOK_DRILL_SETTINGS);
    await receiver.waitFor((received) => received.length === 1, 30_000);
    const [delivery] = receiver.received;
    assert.equal(delivery?.id, held[0], 'the same webhook-id as the attempt that was cut off');
    assert.equal(delivery?.payload.type, 'email.delivered');
    assert.equal(delivery?.payload.data.email_id, emailId);
    await eventually('the outbox to record the success', async () => {
      const { rows } = await env.query<{ status: string }>(
        'SELECT status FROM webhook_events WHERE id = $1',
        [held[0]],
      );
      return rows[0]?.status === 'success';
    });
    await restarted.stop();
  });
});
