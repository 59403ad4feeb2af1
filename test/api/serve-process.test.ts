import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AppProcess, startApp } from '../support/app-process.js';
import { freePort, startPostgres, type TestPostgres } from '../support/postgres.js';
import { call, email } from './api-harness.js';

const API_KEY = 'serve-process-bootstrap-key-7f3a9c';
const POOL_TIMEOUT_SECONDS = 3;

/** `node app/dist/selfmx.js serve` (the built bundle) as a real process against PostgreSQL 15. */
describe('serve: the built bundle as a process', () => {
  let postgres: TestPostgres;
  let app: AppProcess | undefined;

  const env = (overrides: Record<string, string> = {}) => ({
    DATABASE_URL: postgres.url('sslmode=disable'),
    API_KEY,
    DB_POOL_TIMEOUT: String(POOL_TIMEOUT_SECONDS),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: '1',
    SMTP_TLS: 'false',
    QUEUE_WORKERS: '0',
    ...overrides,
  });

  before(async () => {
    postgres = await startPostgres({ database: 'selfmx' });
  });
  after(async () => {
    if (app) await app.stop('SIGKILL');
    await postgres?.destroy();
  });

  test('a missing API_KEY stops start-up with a message naming it', async () => {
    const { API_KEY: _omitted, ...withoutKey } = env();
    const refused = await startApp({ env: withoutKey, waitForHealth: false });
    assert.equal(await refused.waitForExit(), 1);
    assert.match(refused.stderr(), /API_KEY/);
  });

  test('an unreachable database stops start-up with an explanation, not a stack trace', async () => {
    const closedPort = await freePort();
    const refused = await startApp({
      env: env({
        DATABASE_URL: `postgres://selfmx:secret-pw@127.0.0.1:${closedPort}/selfmx?sslmode=disable`,
      }),
      waitForHealth: false,
    });
    assert.equal(await refused.waitForExit(), 1);
    assert.match(refused.stderr(), new RegExp(`127\\.0\\.0\\.1:${closedPort}`));
    assert.ok(!refused.stderr().includes('secret-pw') && !refused.stdout().includes('secret-pw'));
  });

  test('DB_AUTO_MIGRATE=false on an empty database refuses to start, naming the pending migration', async () => {
    const refused = await startApp({
      env: env({ DB_AUTO_MIGRATE: 'false' }),
      waitForHealth: false,
    });
    assert.equal(await refused.exited, 1);
    assert.match(refused.stderr(), /pending migration.*initial-schema/);
  });

  test('auto-migrates on start, then /health is 200 and the bootstrap key works', async () => {
    app = await startApp({ env: env() });
    const client = await postgres.client('selfmx');
    try {
      const { rows } = await client.query(
        `SELECT to_regclass('public.emails') IS NOT NULL AS present`,
      );
      assert.equal(rows[0].present, true);
    } finally {
      await client.end();
    }
    const health = await call(app.url, 'GET', '/health', { key: null });
    assert.deepEqual(health.body, {
      status: 'ok',
      database: 'ok',
      smtp: 'unknown',
      queue_depth: 0,
    });
    const sent = await call(app.url, 'POST', '/v1/emails', { key: API_KEY, body: email() });
    assert.equal(sent.status, 200);
  });

  test('/health: 503 with a reason while PostgreSQL is down (within the pool timeout), 200 again after', async () => {
    assert.ok(app);
    await postgres.stop();
    try {
      // The database check shares the queue-depth count, which is at most a second old.
      let down = await call(app.url, 'GET', '/health', { key: null });
      for (let i = 0; i < 300 && down.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        down = await call(app.url, 'GET', '/health', { key: null });
      }
      assert.equal(down.status, 503);
      assert.equal(down.body.status, 'unavailable');
      assert.equal(down.body.database, 'unavailable');
      assert.match(down.body.reason, /database/);
      // Public: the reason names the kind of failure, not the server (the log does).
      assert.doesNotMatch(down.body.reason, new RegExp(`${postgres.port}|127\\.0\\.0\\.1`));
      const logged = await waitForLogLine(app, 'health_database_unavailable');
      assert.ok(logged.includes(`127.0.0.1:${postgres.port}`), logged);
      // Authenticated calls fail as an outage (503), not as a bug (500) or a bad key (401).
      const sent = await call(app.url, 'POST', '/v1/emails', { key: API_KEY, body: email() });
      assert.equal(sent.status, 503);
      assert.equal(sent.body.name, 'service_unavailable');
    } finally {
      await postgres.start();
    }
    let status = 0;
    for (let i = 0; i < 150 && status !== 200; i++) {
      status = (await call(app.url, 'GET', '/health', { key: null })).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(status, 200);
  });

  test('SIGTERM: an in-flight request completes and is committed, then the process exits 0', async () => {
    assert.ok(app);
    const running = app;
    // Hold the emails table so that the next send waits inside its INSERT.
    const blocker = await postgres.client('selfmx');
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE emails IN EXCLUSIVE MODE');
    const inFlight = call(running.url, 'POST', '/v1/emails', {
      key: API_KEY,
      body: email({ subject: 'in flight' }),
    });
    try {
      await waitFor(async () => {
        // (The query text is not reliable here: with the extended protocol it may still show
        // the connection's previous statement while the INSERT waits to parse.)
        const { rows } = await blocker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        );
        return rows[0].n > 0;
      });
      running.child.kill('SIGTERM');
      await waitFor(async () => running.stdout().includes('stopping'));
      // No new connections are accepted while the in-flight request finishes.
      await waitFor(async () => {
        const answer = await fetch(`${running.url}/health`).then(
          (r) => r.status,
          () => 'refused',
        );
        return answer === 'refused' || answer === 503;
      });
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    const response = await inFlight;
    assert.equal(response.status, 200, response.text);
    // Within the 10 s that orchestrators allow (SIGKILL, exit 137, after that).
    assert.equal(await running.waitForExit(10_000), 0, running.stdout().slice(-3000));
    app = undefined;
    const client = await postgres.client('selfmx');
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM emails WHERE id = $1`, [
        response.body.id,
      ]);
      assert.equal(rows[0].n, 1);
    } finally {
      await client.end();
    }
    assert.ok(
      !running.stdout().includes(API_KEY) && !running.stderr().includes(API_KEY),
      'API_KEY in the logs',
    );
    assert.ok(!running.stdout().includes(postgres.password), 'database password in the logs');
  });

  test('a new API_KEY rotates the bootstrap key on restart: the old one stops working', async () => {
    const rotated = 'rotated-bootstrap-key-55d2e1b0';
    app = await startApp({ env: env({ API_KEY: rotated }) });
    assert.equal((await call(app.url, 'GET', '/v1/emails', { key: API_KEY })).status, 401);
    assert.equal((await call(app.url, 'GET', '/v1/emails', { key: rotated })).status, 200);
    const audit = await call(app.url, 'GET', '/v1/audit?action=api_key.bootstrap_rotated', {
      key: rotated,
    });
    assert.equal(audit.body.total, 1);
    assert.equal(await app.stop(), 0);
    app = undefined;
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first log line of `event`; the child's stdout is a pipe, so a line may trail the answer. */
async function waitForLogLine(app: AppProcess, event: string): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const line = app
      .stdout()
      .split('\n')
      .find((candidate) => candidate.includes(`"event":"${event}"`));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "${event}" log line:\n${app.stdout()}`);
}
