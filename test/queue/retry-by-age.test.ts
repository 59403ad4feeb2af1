import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { startTcpGate, type TcpGate } from '../drills/support/tcp-gate.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const CREDENTIALS = { user: 'relay-user', pass: 'relay-password' };

/**
 * Retries by age on a real PostgreSQL and a real SMTP server: an unreachable relay or a refused
 * login only ages an email (QUEUE_RETRY_ATTEMPTS counts 4xx answers), `delivery_delayed` is
 * written once, and QUEUE_MAX_AGE ends the retries.
 */
describe('retries by age', () => {
  let fx: QueueFixture;
  let gate: TcpGate;
  let workers: QueueWorkers | undefined;

  before(async () => {
    fx = await startQueueFixture({ auth: CREDENTIALS });
    gate = await startTcpGate(fx.sink);
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
    await gate.open().catch(() => undefined);
    fx.sink.reset();
  });
  after(async () => {
    await gate.stop();
    await fx.close();
  });

  const start = async (
    queue: Parameters<QueueFixture['queueConfig']>[0],
    smtp: Parameters<QueueFixture['smtpConfig']>[0] = {},
  ) => {
    workers = await startQueueWorkers({
      pool: fx.pool,
      config: {
        queue: fx.queueConfig({ retryDelaySeconds: 0.05, maxRetryDelaySeconds: 0.1, ...queue }),
        smtp: fx.smtpConfig({ port: gate.port, ...CREDENTIALS, ...smtp }),
      },
      logger: fx.logger,
      tuning: { pollIntervalMs: 50 },
    });
  };

  const row = async (id: string) => {
    const { rows } = await fx.pool.query<{
      status: string;
      attempts: number;
      relay_deferrals: number;
      delayed: boolean;
      last_error: string | null;
    }>(
      `SELECT status, attempts, relay_deferrals, delayed_event_at IS NOT NULL AS delayed,
              last_error FROM emails WHERE id = $1`,
      [id],
    );
    return rows[0] as NonNullable<(typeof rows)[0]>;
  };
  const eventCount = async (id: string, type: string) => {
    const { rows } = await fx.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM email_events WHERE email_id = $1 AND type = $2',
      [id, type],
    );
    return rows[0]?.n ?? 0;
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('keeps retrying an unreachable relay past QUEUE_RETRY_ATTEMPTS, says so once, and delivers when it is back', async () => {
    await gate.close();
    const id = await fx.insertEmail({}, true);
    await start({ retryAttempts: 1, delayNoticeSeconds: 0.2 });
    await waitFor('8 attempts', async () => (await row(id)).attempts >= 8);

    const waiting = await row(id);
    assert.ok(['queued', 'sending'].includes(waiting.status), waiting.status);
    assert.equal(waiting.relay_deferrals, 0, 'a refused connection is not a 4xx answer');
    assert.equal(waiting.delayed, true);
    assert.equal(await eventCount(id, 'delivery_delayed'), 1);

    await gate.open();
    await fx.waitUntilSettled();
    assert.equal((await row(id)).status, 'delivered');
    assert.equal(fx.sink.messages.length, 1);
    assert.equal(await eventCount(id, 'delivery_delayed'), 1, 'once per email');
  });

  it('retries a refused login without counting it, and delivers once the password is fixed', async () => {
    const id = await fx.insertEmail({}, true);
    await start({ retryAttempts: 0 }, { pass: 'a-wrong-password' });
    await waitFor('4 attempts', async () => (await row(id)).attempts >= 4);
    const refused = await row(id);
    assert.ok(['queued', 'sending'].includes(refused.status), refused.status);
    assert.equal(refused.relay_deferrals, 0);
    assert.match(refused.last_error ?? '', /EAUTH|535|[Aa]uthentication/);
    await workers?.stop();

    await start({ retryAttempts: 0 });
    await fx.waitUntilSettled();
    assert.equal((await row(id)).status, 'delivered');
    assert.equal(fx.sink.messages.length, 1);
  });

  it('fails an email that is still undelivered after QUEUE_MAX_AGE', async () => {
    await gate.close();
    const id = await fx.insertEmail({}, true);
    await start({ maxAgeSeconds: 1 });
    await fx.waitUntilSettled();
    const failed = await row(id);
    assert.equal(failed.status, 'failed');
    assert.ok(failed.attempts >= 2, `${failed.attempts} attempts`);
    const { rows } = await fx.pool.query<{ detail: string }>(
      `SELECT detail FROM email_events WHERE email_id = $1 AND type = 'failed'`,
      [id],
    );
    assert.match(rows[0]?.detail ?? '', /gave up after trying for \d+ s \(QUEUE_MAX_AGE=1\)/);
  });
});
