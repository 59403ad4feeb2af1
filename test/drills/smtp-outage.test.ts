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
import { startTcpGate, type TcpGate } from './support/tcp-gate.js';

const EMAILS = 5;

/**
 * Drill: the SMTP relay is unreachable for a while (maintenance, network cut). Guarantees: the
 * API keeps accepting; emails stay queued and are retried with backoff (QUEUE_RETRY_DELAY=1),
 * never failed while attempts remain; /health stays 200 so the containers are not restarted;
 * everything is delivered once the relay is back.
 */
describe('drill: SMTP server down for a while', { timeout: 180_000 }, () => {
  let env: DrillEnvironment;
  let gate: TcpGate;

  before(async () => {
    env = await startDrillEnvironment();
    gate = await startTcpGate(env.sink);
  });
  after(async () => {
    await gate?.stop();
    await env?.close();
  });

  it('keeps emails queued while the relay is down and delivers them when it is back', async () => {
    const app = await env.startApp({
      SMTP_PORT: String(gate.port),
      QUEUE_WORKERS: '2',
      QUEUE_RETRY_DELAY: '1',
      // Enough attempts (1 + 2 + 4 + ... s of backoff) to outlast the outage.
      QUEUE_RETRY_ATTEMPTS: '8',
    });
    await gate.close();
    const accepted = await sendAccepted(app, env.apiKey, EMAILS);

    // Every email has been tried and deferred (connection refused) at least once.
    await eventually('a deferred attempt for every email', async () => {
      const { rows } = await env.query<{ n: number }>(
        `SELECT count(DISTINCT email_id)::int AS n FROM email_events
          WHERE type = 'deferred' AND email_id = ANY($1::uuid[])`,
        [accepted],
      );
      return rows[0]?.n === EMAILS;
    });
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

    await gate.open();
    await eventually(
      'every email to be delivered after the relay returned',
      async () => (await statusCounts(env, accepted)).delivered === EMAILS,
      60_000,
    );
    const arrived = new Set(
      env.sink.messages.map((message) => emailIdOfMessage(message.header('message-id'))),
    );
    assert.deepEqual(
      accepted.filter((id) => !arrived.has(id)),
      [],
      'every accepted email reached the relay',
    );
    await app.stop();
  });
});
