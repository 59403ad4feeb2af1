import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimEmails } from '../../app/src/queue/queue-store.js';
import { explainQueueQueries, isIndexDriven } from '../../bench/lib/claim-explain.js';
import { email, useApiTestbed } from '../api/api-harness.js';

const LATER = 100_000;

/**
 * 100,000 emails scheduled for later cost the claim nothing: the promotion of due scheduled
 * emails and the claim each read a few index entries, and only due emails are claimed.
 */
describe('the claim with a backlog of scheduled emails', () => {
  const api = useApiTestbed();

  test('claims due scheduled emails at their time, reads only the due ones (EXPLAIN)', async () => {
    const model = await api.server.call('POST', '/v1/emails', {
      body: email({ scheduled_at: 'in 1 hour' }),
    });
    assert.equal(model.status, 200, model.text);
    assert.equal(model.body.status, 'scheduled');
    // Copies of the model: LATER scheduled for the coming days, 3 already due.
    await api.db.query(
      `INSERT INTO emails (tenant_id, api_key_id, from_address, to_addresses, subject, text,
                           status, scheduled_at, next_attempt_at)
       SELECT tenant_id, api_key_id, from_address, to_addresses, subject || ' ' || i, text,
              'scheduled', t, t
         FROM emails, generate_series(1, $2) AS i,
              LATERAL (SELECT CASE WHEN i <= 3 THEN now() - interval '1 second'
                                   ELSE now() + i * interval '10 seconds' END AS t) AS at
        WHERE id = $1`,
      [model.body.id, LATER + 3],
    );
    await api.db.query('ANALYZE emails');

    const plans = await explainQueueQueries(api.server.pool);
    assert.ok(isIndexDriven(plans.promote, 100), plans.promote);
    assert.match(plans.promote, /emails_scheduled_due_idx/);
    assert.ok(isIndexDriven(plans.claim, 100), plans.claim);

    const claimed = await claimEmails(api.server.pool, 'test#0', 100, 60);
    assert.equal(claimed.length, 3);
    const { rows } = await api.db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM emails GROUP BY status ORDER BY status',
    );
    assert.deepEqual(rows, [
      { status: 'scheduled', n: LATER + 1 },
      { status: 'sending', n: 3 },
    ]);
  });
});
