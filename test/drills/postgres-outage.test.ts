import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type DrillEnvironment,
  eventually,
  type SendOutcome,
  sendEmail,
  startDrillEnvironment,
} from './support/drill-environment.js';

const POOL_TIMEOUT_SECONDS = 2;
// Each request's own budget: DB_POOL_TIMEOUT plus a margin for a loaded CI machine. A request
// still open at its budget is aborted and counted as hung.
const REQUEST_BUDGET_MS = POOL_TIMEOUT_SECONDS * 1000 + 5000;
const SENDERS = 4;

type Phase = 'before' | 'outage' | 'after';
interface Sent extends SendOutcome {
  readonly phase: Phase;
}

/**
 * Drill: PostgreSQL goes away (restart, failover, network cut) while clients keep sending.
 * Guarantees: requests fail fast with 503 and a JSON reason, none hangs past DB_POOL_TIMEOUT;
 * /health turns 503; the same process recovers by itself when PostgreSQL is back; every email
 * that got a 2xx is in the database afterwards.
 */
describe('drill: PostgreSQL stopped during ingest', { timeout: 180_000 }, () => {
  let env: DrillEnvironment;

  before(async () => {
    env = await startDrillEnvironment();
  });
  after(async () => {
    await env?.close();
  });

  it('answers 503 fast, recovers without a restart and keeps every accepted email', async () => {
    const app = await env.startApp({
      DB_POOL_TIMEOUT: String(POOL_TIMEOUT_SECONDS),
      QUEUE_WORKERS: '1',
    });
    const sent: Sent[] = [];
    const hung: string[] = [];
    let phase: Phase = 'before';
    let sending = true;
    let index = 0;
    const sender = async () => {
      while (sending) {
        const requestPhase = phase;
        const mine = index++;
        try {
          const outcome = await sendEmail(
            app,
            env.apiKey,
            mine,
            AbortSignal.timeout(REQUEST_BUDGET_MS),
          );
          sent.push({ ...outcome, phase: requestPhase });
        } catch (error) {
          hung.push(`request ${mine} (${requestPhase}): ${(error as Error).message}`);
        }
        // A steady trickle, not a flood: the drill is about outcomes, not throughput.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);
    const count = (which: Phase, ok: boolean) =>
      sent.filter((s) => s.phase === which && s.status < 300 === ok).length;

    await eventually('accepted emails before the outage', async () => count('before', true) >= 10);

    await env.postgres.stop();
    phase = 'outage';
    await eventually('503 answers during the outage', async () => count('outage', false) >= 10);
    // /health's database check shares the queue-depth count, which is at most a second old.
    let health = await fetch(`${app.url}/health`, {
      signal: AbortSignal.timeout(REQUEST_BUDGET_MS),
    });
    await eventually(
      '/health to see the outage',
      async () => {
        health = await fetch(`${app.url}/health`, {
          signal: AbortSignal.timeout(REQUEST_BUDGET_MS),
        });
        return health.status !== 200;
      },
      5_000,
    );
    const healthBody = (await health.json()) as { status?: string; reason?: string };
    assert.equal(health.status, 503, '/health answers 503 while PostgreSQL is down');
    assert.equal(healthBody.status, 'unavailable');
    assert.match(healthBody.reason ?? '', /database/);

    await env.postgres.start();
    await eventually(
      '/health to answer 200 again',
      async () => {
        const response = await fetch(`${app.url}/health`, {
          signal: AbortSignal.timeout(REQUEST_BUDGET_MS),
        });
        await response.arrayBuffer();
        return response.status === 200;
      },
      60_000,
    );
    phase = 'after';
    await eventually('accepted emails after the outage', async () => count('after', true) >= 10);
    sending = false;
    await Promise.all(senders);

    assert.deepEqual(hung, [], `requests still open after ${REQUEST_BUDGET_MS} ms`);
    assert.equal(app.child.exitCode, null, 'the same process served before, during and after');
    for (const failure of sent.filter((s) => s.status >= 300)) {
      assert.equal(
        failure.status,
        503,
        `a refused request answers 503: ${JSON.stringify(failure.body)}`,
      );
      assert.equal(failure.body.statusCode, 503);
      assert.equal(typeof failure.body.name, 'string');
      assert.match(failure.body.message ?? '', /\w/, 'a 503 says why');
    }

    const acceptedIds = sent.filter((s) => s.status < 300).map((s) => s.body.id);
    assert.ok(acceptedIds.every((id) => typeof id === 'string'));
    const { rows } = await env.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails WHERE id = ANY($1::uuid[])`,
      [acceptedIds],
    );
    assert.equal(rows[0]?.n, acceptedIds.length, 'every email that got a 2xx is in the database');
    await app.stop();
  });
});
