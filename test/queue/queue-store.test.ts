import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type pg from 'pg';
import {
  claimEmails,
  claimEmailsForWorkers,
  countQueuedEmails,
  type Outcome,
  reclaimExpiredLeases,
  recordOutcomes,
} from '../../app/src/queue/queue-store.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

/** One report through the batched statement the workers use. */
async function recordOutcome(db: pg.Pool, workerId: string, emailId: string, outcome: Outcome) {
  const [recorded] = await recordOutcomes(db, [{ workerId, emailId, outcome }]);
  return recorded;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('queue SQL on a real PostgreSQL 15', () => {
  let fx: QueueFixture;
  before(async () => {
    fx = await startQueueFixture();
  });
  beforeEach(async () => {
    await fx.pool.query('DELETE FROM emails');
  });
  after(() => fx.close());

  it('claims due emails oldest first and skips those backing off', async () => {
    const ids = await fx.insertEmails(5);
    await fx.pool.query(
      `UPDATE emails SET next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
      [ids[1]],
    );
    assert.equal(await countQueuedEmails(fx.pool), 5);
    const claimed = await claimEmails(fx.pool, 'w1', 10, 30);
    assert.deepEqual(
      claimed.map((email) => email.id),
      [ids[0], ids[2], ids[3], ids[4]],
    );
    assert.ok(claimed.every((email) => email.attempts === 1));
    assert.equal(await countQueuedEmails(fx.pool), 1);
    assert.deepEqual(
      (await fx.events(ids[0] as string)).map((e) => e.type),
      ['queued', 'sending'],
    );
  });

  it('claims through emails_queue_due_idx, without scanning or sorting the table', async () => {
    await fx.insertEmails(5000);
    await fx.pool.query(
      `UPDATE emails SET status = 'delivered' WHERE id IN (SELECT id FROM emails LIMIT 2500)`,
    );
    await fx.pool.query('ANALYZE emails');
    // The exact SQL the workers send, captured, then EXPLAINed in a rolled-back transaction.
    let sent: { text: string; values: unknown[] } | undefined;
    const recorder = {
      query: async (text: string, values: unknown[]) => {
        sent = { text, values };
        return { rows: [], rowCount: 0 };
      },
    } as unknown as Parameters<typeof claimEmails>[0];
    await claimEmails(recorder, 'explain#0', 10, 60);
    const client = await fx.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`EXPLAIN ${sent?.text}`, sent?.values);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using emails_queue_due_idx/, plan);
      // Sorting the 10 claimed rows is fine; sorting the queue itself is not.
      assert.doesNotMatch(plan, /Seq Scan on emails|Sort Key: emails\./, plan);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('concurrent claims never return the same email (FOR UPDATE SKIP LOCKED)', async () => {
    await fx.insertEmails(200);
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claimEmails(fx.pool, `w${i}`, 40, 30)),
    );
    const all = claims.flat().map((email) => email.id);
    assert.equal(all.length, 200, 'every email claimed');
    assert.equal(new Set(all).size, 200, 'by exactly one claimer');
  });

  it('one claim for several workers deals the oldest emails out in turn, each leased to its worker', async () => {
    const ids = await fx.insertEmails(5);
    const [first, second] = await claimEmailsForWorkers(fx.pool, ['p#0', 'p#1'], 2, 30);
    assert.deepEqual(
      first?.map((email) => email.id),
      [ids[0], ids[2]],
    );
    assert.deepEqual(
      second?.map((email) => email.id),
      [ids[1], ids[3]],
    );
    const { rows } = await fx.pool.query<{ id: string; leased_by: string | null }>(
      `SELECT id, leased_by FROM emails ORDER BY created_at`,
    );
    assert.deepEqual(
      rows.map((row) => row.leased_by),
      ['p#0', 'p#1', 'p#0', 'p#1', null],
    );
    assert.match((await fx.events(ids[1] as string)).at(-1)?.detail ?? '', /claimed by p#1/);
    // Each worker records only its own emails.
    const delivered: Outcome = { type: 'delivered', smtpResponse: '250 ok' };
    assert.equal(await recordOutcome(fx.pool, 'p#0', ids[1] as string, delivered), false);
    assert.equal(await recordOutcome(fx.pool, 'p#1', ids[1] as string, delivered), true);
  });

  it('only the lease holder can record the outcome, and not after another worker reclaimed it', async () => {
    const [id] = await fx.insertEmails(1);
    await claimEmails(fx.pool, 'slow-worker', 1, 0.2);
    assert.equal(await recordOutcome(fx.pool, 'intruder', id as string, delivered), false);
    await sleep(300);
    assert.deepEqual(await reclaimExpiredLeases(fx.pool, 4), { requeued: 1, failed: 0 });
    const [again] = await claimEmails(fx.pool, 'second-worker', 1, 30);
    assert.equal(again?.attempts, 2);
    assert.equal(await recordOutcome(fx.pool, 'slow-worker', id as string, delivered), false);
    assert.equal(await recordOutcome(fx.pool, 'second-worker', id as string, delivered), true);
    assert.deepEqual(
      (await fx.events(id as string)).map((e) => e.type),
      ['queued', 'sending', 'deferred', 'sending', 'delivered'],
    );
  });

  it('records a batch of outcomes in one statement, each only for its lease holder', async () => {
    const ids = (await fx.insertEmails(4)) as string[];
    await claimEmails(fx.pool, 'worker-a', 3, 30);
    await claimEmails(fx.pool, 'worker-b', 1, 30);
    const [first, second, third, fourth] = ids as [string, string, string, string];
    const recorded = await recordOutcomes(fx.pool, [
      { workerId: 'worker-a', emailId: first, outcome: delivered },
      {
        workerId: 'worker-a',
        emailId: second,
        outcome: { type: 'deferred', smtpResponse: '421 busy', retryInSeconds: 60 },
      },
      {
        workerId: 'worker-a',
        emailId: third,
        outcome: { type: 'bounced', smtpResponse: '550 no' },
      },
      // Held by worker-b: worker-a's report must not move it.
      { workerId: 'worker-a', emailId: fourth, outcome: delivered },
    ]);
    assert.deepEqual(recorded, [true, true, true, false]);
    const { rows } = await fx.pool.query<{ id: string; status: string; last_error: string | null }>(
      `SELECT id, status, last_error, next_attempt_at > now() + interval '50 seconds' AS later
         FROM emails WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    assert.equal(byId.get(first)?.status, 'delivered');
    assert.equal(byId.get(second)?.status, 'queued');
    assert.equal((byId.get(second) as unknown as { later: boolean }).later, true);
    assert.equal(byId.get(second)?.last_error, '421 busy');
    assert.equal(byId.get(third)?.status, 'bounced');
    assert.equal(byId.get(fourth)?.status, 'sending');
    assert.deepEqual(
      (await fx.events(second)).map((e) => e.type),
      ['queued', 'sending', 'deferred'],
    );
    assert.deepEqual(
      (await fx.events(fourth)).map((e) => e.type),
      ['queued', 'sending'],
    );
  });

  it('an expired lease on the last attempt fails the email instead of requeueing it', async () => {
    const [id] = await fx.insertEmails(1);
    await fx.pool.query('UPDATE emails SET relay_deferrals = 3 WHERE id = $1', [id]);
    await claimEmails(fx.pool, 'crashed', 1, 0.1);
    await sleep(200);
    assert.deepEqual(await reclaimExpiredLeases(fx.pool, 4), { requeued: 0, failed: 1 });
    const row = await fx.email(id as string);
    assert.equal(row.status, 'failed');
    assert.match(row.last_error ?? '', /lease of crashed expired/);
  });
});

const delivered = { type: 'delivered', smtpResponse: '250 OK' } as const;
