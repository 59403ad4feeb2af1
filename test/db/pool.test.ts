import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import pino from 'pino';
import {
  type DatabaseSettings,
  parseDatabaseSettings,
} from '../../app/src/config/database-settings.js';
import { explainDatabaseError } from '../../app/src/db/explain-error.js';
import { APPLICATION_NAME, createPool } from '../../app/src/db/pool.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createTestCa, type TestCa } from '../support/tls.js';

/** Pool settings proven by what the server sees in pg_stat_activity, not by reading them back. */
const PASSWORD = 'pool-S3cret-word';

let server: TestPostgres;
let ca: TestCa;
let observer: pg.Client;
const pools: pg.Pool[] = [];

before(async () => {
  ca = await createTestCa();
  // TLS on, so that the default sslmode (prefer) takes the pool through the TLS negotiation.
  server = await startPostgres({
    password: PASSWORD,
    tls: await ca.issueServerCertificate('IP:127.0.0.1'),
  });
  for (const name of ['concurrency', 'pooltimeout', 'idle_short', 'idle_long', 'idle_error']) {
    await server.createDatabase(name);
  }
  observer = await server.client();
});

after(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
  await observer?.end();
  await server?.destroy();
  await ca?.cleanup();
});

function settingsFor(database: string, query: string, env: Record<string, string> = {}) {
  return parseDatabaseSettings({ ...env, DATABASE_URL: server.url(query, database) });
}

/** A pool plus the log lines it wrote. */
function poolFor(settings: DatabaseSettings): { pool: pg.Pool; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const pool = createPool(settings, logger);
  pools.push(pool);
  return { pool, logs };
}

/** The app's server connections to `database`, as PostgreSQL counts them. */
async function serverConnections(database: string): Promise<number> {
  const { rows } = await observer.query<{ count: number }>(
    'select count(*)::int as count from pg_stat_activity where datname = $1 and application_name = $2',
    [database, APPLICATION_NAME],
  );
  return rows[0]?.count ?? 0;
}

/** Polls until `predicate` holds; fails after `limitMs` (a bound, not a timing assertion). */
async function waitFor(what: string, predicate: () => Promise<boolean>, limitMs = 10_000) {
  const deadline = Date.now() + limitMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('createPool', () => {
  test('a pool of N never holds more than N server connections under 3N concurrent queries', async () => {
    const size = 3;
    // No sslmode: prefer, negotiated by every connection the pool opens.
    const { pool } = poolFor(settingsFor('concurrency', `pool_size=${size}`));
    let busy = true;
    let peak = 0;
    const sampling = (async () => {
      while (busy) {
        peak = Math.max(peak, await serverConnections('concurrency'));
        await sleep(10);
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 3 * size }, () =>
        pool.query<{ pid: number; ssl: boolean }>(
          'select pid, ssl, pg_sleep(0.2) from pg_stat_ssl where pid = pg_backend_pid()',
        ),
      ),
    );
    busy = false;
    await sampling;
    const backends = new Set(results.map((result) => result.rows[0]?.pid));
    assert.ok(peak <= size, `the server saw ${peak} connections for a pool of ${size}`);
    assert.equal(backends.size, size, 'the queries ran on exactly N server connections');
    assert.ok(
      results.every((result) => result.rows[0]?.ssl === true),
      'prefer used TLS',
    );
    assert.equal(await serverConnections('concurrency'), size, 'the N connections stay open');
  });

  test('a pool timeout surfaces after about pool_timeout, explained', async () => {
    const settings = settingsFor('pooltimeout', 'pool_size=1&pool_timeout=1&sslmode=disable');
    const { pool } = poolFor(settings);
    const held = await pool.connect();
    try {
      const started = performance.now();
      const error = await pool.query('select 1').then(
        () => assert.fail('the query got a connection from a full pool'),
        (caught: unknown) => caught,
      );
      const waitedMs = performance.now() - started;
      assert.ok(waitedMs >= 900, `gave up after ${waitedMs} ms, before pool_timeout=1s`);
      assert.ok(waitedMs < 10_000, `waited ${waitedMs} ms for pool_timeout=1s`);
      const explained = explainDatabaseError(error, settings);
      assert.match(explained, /Timed out waiting for a free database connection/);
      assert.match(explained, /DB_POOL_SIZE=1/);
      assert.match(explained, /pool_timeout=1s/);
      assert.match(explained, /DB_POOL_TIMEOUT/);
      assert.ok(!explained.includes(PASSWORD));
    } finally {
      held.release();
    }
    assert.equal((await pool.query('select 1 as one')).rows[0]?.one, 1, 'usable once released');
  });

  test('idle connections close after DB_IDLE_TIMEOUT', async () => {
    const short = poolFor(settingsFor('idle_short', 'sslmode=disable', { DB_IDLE_TIMEOUT: '1' }));
    const long = poolFor(settingsFor('idle_long', 'sslmode=disable'));
    const fill = (pool: pg.Pool) =>
      Promise.all([1, 2, 3].map(() => pool.query('select pg_sleep(0.1)')));
    await Promise.all([fill(short.pool), fill(long.pool)]);
    assert.equal(await serverConnections('idle_short'), 3);
    assert.equal(await serverConnections('idle_long'), 3);
    await waitFor('the idle connections to close', async () => {
      return (await serverConnections('idle_short')) === 0;
    });
    assert.equal(short.pool.totalCount, 0);
    assert.equal(await serverConnections('idle_long'), 3, 'default 300 s: still open');
  });

  test('logs one start-up line with the redacted URL and the effective pool settings', () => {
    const settings = settingsFor('concurrency', 'sslmode=disable&pool_timeout=7', {
      DB_POOL_SIZE: '4',
      DB_IDLE_TIMEOUT: '60',
    });
    const { logs } = poolFor(settings);
    assert.equal(logs.length, 1);
    const line = JSON.stringify(logs[0]);
    assert.ok(!line.includes(PASSWORD), line);
    assert.equal(
      logs[0]?.msg,
      `database pool: postgres://postgres:***@127.0.0.1:${server.port}/concurrency?sslmode=disable&pool_timeout=7 (sslmode=disable, pool_size=4, pool_timeout=7s, idle_timeout=60s, statement_timeout=30s, idle_in_transaction_timeout=60s)`,
    );
    assert.deepEqual(logs[0]?.database, {
      url: settings.redactedUrl,
      sslmode: 'disable',
      poolSize: 4,
      poolTimeoutSeconds: 7,
      idleTimeoutSeconds: 60,
      statementTimeoutSeconds: 30,
      idleInTransactionTimeoutSeconds: 60,
    });
  });

  // Default sslmode (prefer over TLS): the loss must surface through the negotiating socket too.
  test('an idle connection killed by the server is logged, not fatal, and replaced', async () => {
    const { pool, logs } = poolFor(settingsFor('idle_error', ''));
    await pool.query('select 1');
    await observer.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = $2',
      ['idle_error', APPLICATION_NAME],
    );
    await waitFor('the warning about the lost idle connection', async () =>
      logs.some((entry) => entry.event === 'database_idle_connection_error'),
    );
    const warning = logs.find((entry) => entry.event === 'database_idle_connection_error');
    assert.match(String(warning?.msg), /idle database connection closed/);
    assert.ok(!JSON.stringify(logs).includes(PASSWORD));
    assert.equal((await pool.query('select 2 as two')).rows[0]?.two, 2);
  });
});
