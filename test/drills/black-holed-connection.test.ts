import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type DrillEnvironment,
  emailIdOfMessage,
  eventually,
  type SendOutcome,
  sendEmail,
  startDrillEnvironment,
} from './support/drill-environment.js';
import { startTcpGate, type TcpGate } from './support/tcp-gate.js';

const STATEMENT_TIMEOUT_SECONDS = 1;
const POOL_TIMEOUT_SECONDS = 2;
// A request may wait for a black-holed statement (statement timeout plus the client's 5 s
// margin) and then for a connection: past this budget it is aborted and counted as hung.
const REQUEST_BUDGET_MS = (STATEMENT_TIMEOUT_SECONDS + 5 + POOL_TIMEOUT_SECONDS) * 1000 + 8000;
const SENDERS = 4;
// Fewer slots than senders: recovery is only possible if the black-holed slots are freed.
const POOL_SIZE = 3;

type Phase = 'before' | 'black-holed' | 'after';
interface Sent extends SendOutcome {
  readonly phase: Phase;
}

/**
 * Drill: during a failover, every open database connection goes silent: no reset, no answer, and
 * the path still ACKs (a proxy, a NAT, a load balancer keeps the socket open), so TCP keepalive
 * cannot tell. Guarantees: the statements in flight fail (503) instead of hanging, their pool
 * slots are freed, new connections take the healthy path, the same process recovers, and every
 * email that got a 2xx is stored and delivered.
 */
describe('drill: database connections black-holed during ingest', { timeout: 240_000 }, () => {
  let env: DrillEnvironment;
  let gate: TcpGate;

  before(async () => {
    env = await startDrillEnvironment();
    gate = await startTcpGate({ host: env.postgres.host, port: env.postgres.port });
  });
  after(async () => {
    await gate?.stop();
    await env?.close();
  });

  it('fails the stuck statements, frees their slots and recovers without a restart', async () => {
    const app = await env.startApp({
      DATABASE_URL: env.postgres.url().replace(`:${env.postgres.port}/`, `:${gate.port}/`),
      DB_STATEMENT_TIMEOUT: String(STATEMENT_TIMEOUT_SECONDS),
      DB_POOL_TIMEOUT: String(POOL_TIMEOUT_SECONDS),
      DB_POOL_SIZE: String(POOL_SIZE),
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
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);
    const count = (which: Phase, ok: boolean) =>
      sent.filter((s) => s.phase === which && s.status < 300 === ok).length;

    await eventually(
      'accepted emails before the black hole',
      async () => count('before', true) >= 10,
    );
    const held = gate.blackHole();
    assert.ok(held >= 2, `the app's connections went through the gate (${held} held)`);
    phase = 'black-holed';
    // The answers of requests that were waiting on the silent connections.
    await eventually(
      'the requests caught by the black hole to be answered',
      async () => count('black-holed', false) + count('black-holed', true) >= 10,
      60_000,
    );
    phase = 'after';
    await eventually(
      'accepted emails after the black hole',
      async () => count('after', true) >= 20,
      60_000,
    );
    sending = false;
    await Promise.all(senders);

    assert.deepEqual(hung, [], `requests still open after ${REQUEST_BUDGET_MS} ms`);
    assert.equal(app.child.exitCode, null, 'the same process served before, during and after');
    for (const failure of sent.filter((s) => s.status >= 300)) {
      assert.equal(
        failure.status,
        503,
        `a failed request answers 503: ${JSON.stringify(failure.body)}`,
      );
      assert.match(failure.body.message ?? '', /\w/, 'a 503 says why');
    }
    const health = await fetch(`${app.url}/health`, {
      signal: AbortSignal.timeout(REQUEST_BUDGET_MS),
    });
    assert.equal(health.status, 200, 'healthy again without a restart');

    const acceptedIds = sent.filter((s) => s.status < 300).map((s) => s.body.id as string);
    const { rows } = await env.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails WHERE id = ANY($1::uuid[])`,
      [acceptedIds],
    );
    assert.equal(rows[0]?.n, acceptedIds.length, 'every email that got a 2xx is in the database');
    // Delivery goes on: the worker's claims on silent connections were given up and retried.
    await eventually(
      'every accepted email to reach the SMTP sink',
      async () => {
        const delivered = new Set(
          env.sink.messages.map((m) => emailIdOfMessage(m.header('message-id'))),
        );
        return acceptedIds.every((id) => delivered.has(id));
      },
      120_000,
    );
    await app.stop();
  });
});
