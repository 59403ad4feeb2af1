import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type DrillEnvironment,
  emailIdOfMessage,
  eventually,
  sendAccepted,
  startDrillEnvironment,
  statusCounts,
} from './support/drill-environment.js';

// The app's worker batch (DEFAULT_TUNING.batchSize): what one worker holds in flight at once.
const BATCH_SIZE = 10;
const WORKERS = 4;
const EMAILS = 200;

/**
 * Drill: the process is SIGKILLed (OOM killer, `docker kill`, a lost host) while it delivers a
 * backlog. Guarantee: after a restart every accepted email is delivered; the only duplicates are
 * emails of the batches in flight at the kill (sent, but not yet recorded), visible to the
 * recipient as the same Message-ID twice.
 */
describe('drill: SIGKILL mid-delivery', { timeout: 180_000 }, () => {
  let env: DrillEnvironment;

  before(async () => {
    env = await startDrillEnvironment();
  });
  after(async () => {
    await env?.close();
  });

  it('loses nothing, and duplicates stay within the batches in flight', async (t) => {
    // Accept the backlog with no workers, so the delivery below starts from a known queue.
    const intake = await env.startApp({ QUEUE_WORKERS: '0' });
    const accepted = await sendAccepted(intake, env.apiKey, EMAILS);
    await intake.stop();

    // A slow relay keeps every worker's batch in flight when the kill lands.
    env.sink.setReplyDelay(40);
    const doomed = await env.startApp({ QUEUE_WORKERS: String(WORKERS) });
    await env.sink.waitForMessages(30, 60_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    // A statement the dead process had already sent may still commit: count once its
    // connections are gone.
    await eventually('the killed process to leave PostgreSQL', async () => {
      const { rows } = await env.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'selfmx%'`,
      );
      return rows[0]?.n === 0;
    });
    const deliveredBeforeKill = env.sink.messages.length;

    const { rows } = await env.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails WHERE status = 'sending'`,
    );
    const inFlight = rows[0]?.n ?? 0;
    assert.ok(inFlight > 0, 'the kill should land while batches are claimed');
    assert.ok(
      inFlight <= WORKERS * BATCH_SIZE,
      `${inFlight} emails were claimed at once, more than ${WORKERS} workers × ${BATCH_SIZE}`,
    );
    assert.ok(deliveredBeforeKill < EMAILS, 'the kill should land mid-backlog');

    // The dead process's leases last 120 s; move them to "expired" rather than wait (this is
    // the state the database is in two minutes later; the reclaim itself is the app's).
    await env.query(
      `UPDATE emails SET lease_expires_at = now() - interval '1 second' WHERE status = 'sending'`,
    );
    env.sink.setReplyDelay(0);
    const restarted = await env.startApp({ QUEUE_WORKERS: String(WORKERS) });
    await eventually(
      `all ${EMAILS} accepted emails to be delivered`,
      async () => (await statusCounts(env, accepted)).delivered === EMAILS,
      60_000,
    );
    await restarted.stop();

    const arrived = env.sink.messages.map((message) =>
      emailIdOfMessage(message.header('message-id')),
    );
    const distinct = new Set(arrived);
    assert.deepEqual(
      [...accepted].filter((id) => !distinct.has(id)),
      [],
      'every accepted email reached the relay',
    );
    assert.equal(distinct.size, EMAILS, 'nothing but the accepted emails reached the relay');
    const duplicates = arrived.length - distinct.size;
    assert.ok(
      duplicates <= inFlight,
      `${duplicates} duplicates, more than the ${inFlight} emails in flight at the kill`,
    );

    // The reclaim is on record for each email the dead process held.
    const reclaimed = await env.query<{ n: number }>(
      `SELECT count(DISTINCT email_id)::int AS n FROM email_events
        WHERE type = 'deferred' AND detail LIKE '%lease%expired%'`,
    );
    assert.equal(reclaimed.rows[0]?.n, inFlight);
    t.diagnostic(
      `SIGKILL drill: ${EMAILS} accepted, ${deliveredBeforeKill} delivered before the kill, ` +
        `${inFlight} in flight, ${duplicates} duplicates after restart`,
    );
  });
});
