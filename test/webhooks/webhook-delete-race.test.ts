import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordWebhookAttempt } from '../../app/src/webhooks/webhook-outbox.js';
import { createWebhookEndpoint, useWebhookTestServer } from './webhook-endpoint-fixture.js';

/**
 * Deleting a webhook while a worker records an attempt of one of its events: both lock the
 * webhook row and the event row, and must do so in the same order, or PostgreSQL breaks the
 * deadlock by failing one of them (the DELETE answered 500).
 */
describe('deleting a webhook during an attempt', () => {
  const fx = useWebhookTestServer();

  test('the attempt waits for the delete and records nothing; neither fails', async () => {
    const { webhookId } = await createWebhookEndpoint(fx.server);
    const {
      rows: [event],
    } = await fx.server.pool.query<{ id: string; tenant_id: string; claim_token: string }>(
      `INSERT INTO webhook_events
         (tenant_id, webhook_id, type, payload, status, attempts, claim_token)
       SELECT tenant_id, id, 'email.sent', '{}', 'attempting', 1, gen_random_uuid()
         FROM webhooks WHERE id = $1
       RETURNING id, tenant_id, claim_token`,
      [webhookId],
    );
    assert.ok(event);

    // The delete's transaction holds the webhook row while the worker records its attempt.
    const deleter = await fx.postgres.client('selfmx');
    try {
      await deleter.query('BEGIN');
      await deleter.query('SELECT 1 FROM webhooks WHERE id = $1 FOR UPDATE', [webhookId]);
      const attempt = recordWebhookAttempt(
        fx.server.pool,
        { ...event, webhook_id: webhookId, attempts: 1 },
        { ok: false, httpStatus: 500, response: 'server error' },
        5,
        3600,
      );
      for (let waiting = 0; waiting === 0; ) {
        const { rows } = await deleter.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        waiting = rows[0]?.n ?? 0;
      }
      await deleter.query('DELETE FROM webhooks WHERE id = $1', [webhookId]);
      await deleter.query('COMMIT');
      assert.deepEqual(await attempt, { recorded: false, disabled: false });
    } finally {
      await deleter.end();
    }
  });
});
