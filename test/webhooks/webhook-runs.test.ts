import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../app/src/logger.js';
import {
  startWebhookWorkers,
  type WebhookWorkers,
} from '../../app/src/webhooks/webhook-workers.js';
import { createWebhookEndpoint, useWebhookTestServer } from './webhook-endpoint-fixture.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

/**
 * A webhook worker sends one endpoint's claimed run of events one after another; events of a run
 * it stops before sending are given back at once, not left to wait for the claim to expire.
 */
describe('webhook runs', () => {
  const fx = useWebhookTestServer({ WEBHOOK_WORKERS: '1', WEBHOOK_ENDPOINT_CONCURRENCY: '1' });
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.stop();
  });

  test('stopping mid-run gives the unsent events back, their attempt uncounted', async () => {
    const { webhookId, secret } = await createWebhookEndpoint(fx.server, receiver.url);
    receiver.secret = secret;
    await fx.server.pool.query(
      `INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
       SELECT tenant_id, id, 'email.sent',
              jsonb_build_object('type', 'email.sent', 'created_at', now()::text,
                                 'data', jsonb_build_object('n', n))
         FROM webhooks, generate_series(1, 5) AS n WHERE id = $1`,
      [webhookId],
    );

    let stopping: Promise<void> | undefined;
    const workers: WebhookWorkers = startWebhookWorkers({
      pool: fx.server.pool,
      config: fx.server.config.webhooks,
      logger: createLogger({ level: 'silent', format: 'json' }),
      tuning: { pollIntervalMs: 50 },
    });
    // The first request of the run stops the workers while it is being answered.
    receiver.behaviour = () => {
      stopping ??= workers.stop();
      return 200;
    };
    await receiver.waitFor((got) => got.length === 1);
    assert.ok(stopping);
    await stopping;

    const { rows } = await fx.server.pool.query<{ status: string; attempts: number; n: number }>(
      `SELECT status, attempts, claim_token IS NOT NULL AS held, count(*)::int AS n
         FROM webhook_events WHERE webhook_id = $1
        GROUP BY 1, 2, 3 ORDER BY 1`,
      [webhookId],
    );
    assert.deepEqual(rows, [
      { status: 'pending', attempts: 0, held: false, n: 4 },
      { status: 'success', attempts: 1, held: false, n: 1 },
    ]);
    assert.equal(receiver.received.length, 1, 'no event of the run was sent after the stop');
  });
});
