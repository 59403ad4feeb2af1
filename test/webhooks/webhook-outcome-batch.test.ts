import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type AttemptOutcome,
  recordWebhookAttempts,
} from '../../app/src/webhooks/webhook-outbox.js';
import { createWebhookEndpoint, useWebhookTestServer } from './webhook-endpoint-fixture.js';

/**
 * Outcomes that end together are recorded in one statement: each attempt still gets its row and
 * its event's next state, a lost claim changes nothing, and an endpoint's last outcome in the
 * statement decides its failing streak.
 */
describe('recording webhook attempts together', () => {
  const fx = useWebhookTestServer({ WEBHOOK_WORKERS: '0' });

  async function endpointWithEvents(count: number) {
    const { webhookId } = await createWebhookEndpoint(fx.server);
    // As a claim leaves them: attempting, one attempt counted, under one claim token.
    const { rows } = await fx.server.pool.query<{
      id: string;
      tenant_id: string;
      claim_token: string;
    }>(
      `INSERT INTO webhook_events
         (tenant_id, webhook_id, type, payload, status, attempts, claim_token)
       SELECT tenant_id, id, 'email.sent', '{}', 'attempting', 1, gen_random_uuid()
         FROM webhooks, generate_series(1, $2) WHERE id = $1
       RETURNING id, tenant_id, claim_token`,
      [webhookId, count],
    );
    const events = rows.map((row) => ({ ...row, webhook_id: webhookId, attempts: 1 }));
    return { webhookId, events };
  }

  const failure = { ok: false, httpStatus: 500, response: 'server error' };
  const success = { ok: true, httpStatus: 200, response: 'ok' };

  test('each attempt is recorded; a success after failures ends the streak; a lost claim records nothing', async () => {
    const { webhookId, events } = await endpointWithEvents(4);
    const [first, second, third, fourth] = events;
    assert.ok(first && second && third && fourth);
    const outcomes: AttemptOutcome[] = [
      { event: first, result: failure, retryInSeconds: 5, disableAfterSeconds: 3600 },
      { event: second, result: success, retryInSeconds: undefined, disableAfterSeconds: 3600 },
      {
        event: { ...third, attempts: 7 },
        result: failure,
        retryInSeconds: 5,
        disableAfterSeconds: 3600,
      },
      // Replayed and claimed again: the same attempt number, another claim's token.
      {
        event: { ...fourth, claim_token: randomUUID() },
        result: success,
        retryInSeconds: undefined,
        disableAfterSeconds: 3600,
      },
    ];
    const recorded = await recordWebhookAttempts(fx.server.pool, outcomes);
    assert.deepEqual(recorded, [
      { recorded: true, disabled: false },
      { recorded: true, disabled: false },
      { recorded: false, disabled: false },
      { recorded: false, disabled: false },
    ]);
    const { rows: states } = await fx.server.pool.query<{ id: string; status: string; n: number }>(
      `SELECT ev.id, ev.status, (SELECT count(*)::int FROM webhook_attempts a
                                   WHERE a.webhook_event_id = ev.id) AS n
         FROM webhook_events ev WHERE webhook_id = $1`,
      [webhookId],
    );
    const byId = new Map(states.map((row) => [row.id, row]));
    assert.deepEqual(byId.get(first.id), { id: first.id, status: 'pending', n: 1 });
    assert.deepEqual(byId.get(second.id), { id: second.id, status: 'success', n: 1 });
    assert.deepEqual(byId.get(third.id), { id: third.id, status: 'attempting', n: 0 });
    assert.deepEqual(byId.get(fourth.id), { id: fourth.id, status: 'attempting', n: 0 });
    const { rows: hooks } = await fx.server.pool.query<{ failing: boolean; enabled: boolean }>(
      'SELECT failing_since IS NOT NULL AS failing, enabled FROM webhooks WHERE id = $1',
      [webhookId],
    );
    assert.deepEqual(hooks, [{ failing: false, enabled: true }]);
  });

  test('failures that outlast WEBHOOK_DISABLE_AFTER disable the endpoint once, audited', async () => {
    const { webhookId, events } = await endpointWithEvents(2);
    await fx.server.pool.query(
      `UPDATE webhooks SET failing_since = now() - interval '2 hours' WHERE id = $1`,
      [webhookId],
    );
    const recorded = await recordWebhookAttempts(
      fx.server.pool,
      events.map((event) => ({
        event,
        result: failure,
        retryInSeconds: undefined,
        disableAfterSeconds: 3600,
      })),
    );
    assert.deepEqual(recorded, [
      { recorded: true, disabled: false },
      { recorded: true, disabled: true },
    ]);
    const { rows } = await fx.server.pool.query<{ enabled: boolean; audits: number }>(
      `SELECT enabled, (SELECT count(*)::int FROM audit_logs
                         WHERE action = 'webhook.disabled' AND target_id = $1::text) AS audits
         FROM webhooks WHERE id::text = $1`,
      [webhookId],
    );
    assert.deepEqual(rows, [{ enabled: false, audits: 1 }]);
  });
});
