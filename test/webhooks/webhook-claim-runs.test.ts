import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import {
  type ClaimedWebhookEvent,
  claimWebhookEvents,
  releaseWebhookEvents,
} from '../../app/src/webhooks/webhook-outbox.js';
import { createWebhookEndpoint, useWebhookTestServer } from './webhook-endpoint-fixture.js';

/**
 * A claim takes runs of one endpoint's due events under one token each; the per-endpoint bound
 * counts runs (requests that can be in flight), so long runs never put more requests in flight.
 */
describe('claiming webhook events in runs', () => {
  const fx = useWebhookTestServer({ WEBHOOK_WORKERS: '0' });
  const claim = { runs: 8, perEndpoint: 2, runLength: 16, claimSeconds: 30 };

  async function endpointWithPendingEvents(count: number) {
    const { webhookId } = await createWebhookEndpoint(fx.server);
    await fx.server.pool.query(
      `INSERT INTO webhook_events (tenant_id, webhook_id, type, payload, next_attempt_at)
       SELECT tenant_id, id, 'email.sent', '{}', now() - make_interval(secs => n)
         FROM webhooks, generate_series(1, $2) AS n WHERE id = $1`,
      [webhookId, count],
    );
    return webhookId;
  }

  /** Only this endpoint's runs: each test's endpoint is its own. */
  async function claimOf(webhookId: string, finished: string[] = []) {
    const runs = await claimWebhookEvents(fx.server.pool, { ...claim, finished });
    return runs.filter((run) => run[0]?.webhook_id === webhookId);
  }

  const sizes = (runs: ClaimedWebhookEvent[][]) => runs.map((run) => run.length).sort();

  test('a healthy endpoint gets WEBHOOK_ENDPOINT_CONCURRENCY runs; a run in flight counts once', async () => {
    const webhookId = await endpointWithPendingEvents(40);
    const first = await claimOf(webhookId);
    assert.deepEqual(sizes(first), [16, 16]);
    for (const run of first) {
      assert.equal(new Set(run.map((event) => event.claim_token)).size, 1, 'one token a run');
      assert.ok(run.every((event) => event.attempts === 1));
    }
    assert.notEqual(first[0]?.[0]?.claim_token, first[1]?.[0]?.claim_token);
    assert.deepEqual(await claimOf(webhookId), [], 'both runs are in flight');

    // A run whose every request has ended frees its slot, however many events it held.
    const ended = first[0]?.map((event) => event.id) ?? [];
    assert.deepEqual(sizes(await claimOf(webhookId, ended)), [8]);
  });

  test('a failing endpoint gets runs of one event', async () => {
    const webhookId = await endpointWithPendingEvents(5);
    await fx.server.pool.query('UPDATE webhooks SET failing_since = now() WHERE id = $1', [
      webhookId,
    ]);
    assert.deepEqual(sizes(await claimOf(webhookId)), [1, 1]);
  });

  test('counting the runs in flight reads only claimed events, not those waiting for a retry (EXPLAIN)', async () => {
    const webhookId = await endpointWithPendingEvents(0);
    await fx.server.pool.query(
      `INSERT INTO webhook_events (tenant_id, webhook_id, type, payload, attempts, next_attempt_at)
       SELECT tenant_id, id, 'email.sent', '{}', 3, now() + interval '1 hour'
         FROM webhooks, generate_series(1, 20000) WHERE id = $1`,
      [webhookId],
    );
    await fx.server.pool.query('ANALYZE webhook_events');
    // The exact SQL the workers send, captured, then EXPLAINed.
    let sent: { text: string; values: unknown[] } | undefined;
    const recorder = {
      query: async (config: pg.QueryConfig) => {
        sent = { text: config.text, values: config.values ?? [] };
        return { rows: [] };
      },
    } as unknown as Pick<pg.Pool, 'query'>;
    await claimWebhookEvents(recorder, claim);
    assert.ok(sent);
    const client = await fx.server.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`EXPLAIN ${sent.text}`, sent.values);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      assert.match(plan, /webhook_events_attempting_idx/, plan);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  test('events given back are due again with their attempt uncounted, unless claimed again meanwhile', async () => {
    const webhookId = await endpointWithPendingEvents(3);
    const [run] = await claimOf(webhookId);
    assert.ok(run && run.length === 3);
    const [kept, released, reclaimed] = run;
    assert.ok(kept && released && reclaimed);
    // Another claim took this one after the first expired (a new token, a new attempt).
    await fx.server.pool.query(
      `UPDATE webhook_events SET claim_token = gen_random_uuid(), attempts = 2 WHERE id = $1`,
      [reclaimed.id],
    );
    await releaseWebhookEvents(fx.server.pool, [released, reclaimed]);
    const { rows } = await fx.server.pool.query<{
      id: string;
      status: string;
      attempts: number;
      held: boolean;
      due: boolean;
    }>(
      `SELECT id, status, attempts, claim_token IS NOT NULL AS held, next_attempt_at <= now() AS due
         FROM webhook_events WHERE webhook_id = $1`,
      [webhookId],
    );
    const byId = new Map(rows.map(({ id, ...row }) => [id, row]));
    assert.deepEqual(byId.get(kept.id), {
      status: 'attempting',
      attempts: 1,
      held: true,
      due: false,
    });
    assert.deepEqual(byId.get(released.id), {
      status: 'pending',
      attempts: 0,
      held: false,
      due: true,
    });
    assert.deepEqual(byId.get(reclaimed.id), {
      status: 'attempting',
      attempts: 2,
      held: true,
      due: false,
    });
  });
});
