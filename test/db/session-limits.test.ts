import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { createPool } from '../../app/src/db/pool.js';
import { inTransaction } from '../../app/src/db/transaction.js';
import { startTcpGate, type TcpGate } from '../drills/support/tcp-gate.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * The time limits of the app's sessions, proven against a real PostgreSQL 15: what the server
 * enforces, and what the client does when no answer can arrive (a connection black-holed by a
 * failover: a TCP proxy that keeps both sockets open but forwards nothing, so no reset and no
 * keepalive failure ever arrives).
 */
let server: TestPostgres;
let gate: TcpGate;
const pools: pg.Pool[] = [];

before(async () => {
  server = await startPostgres();
  gate = await startTcpGate({ host: server.host, port: server.port });
});

after(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  await gate?.stop();
  await server?.destroy();
});

/** A pool of the app (createPool) with `env`, straight to the server or through the gate. */
function poolWith(env: Record<string, string>, through: 'server' | 'gate' = 'server'): pg.Pool {
  const url = server.url('sslmode=disable');
  const settings = parseDatabaseSettings({
    ...env,
    DATABASE_URL: through === 'gate' ? url.replace(`:${server.port}/`, `:${gate.port}/`) : url,
  });
  const pool = createPool(settings);
  pools.push(pool);
  return pool;
}

async function show(pool: pg.Pool, setting: string): Promise<string> {
  const { rows } = await pool.query<Record<string, string>>(`SHOW ${setting}`);
  return Object.values(rows[0] ?? {})[0] ?? '';
}

/** Rejects with what `promise` rejected with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  assert.fail('expected a rejection');
}

describe('session time limits of the pool', () => {
  test('statement_timeout and idle_in_transaction_session_timeout: 30 s and 60 s by default', async () => {
    const pool = poolWith({});
    assert.equal(await show(pool, 'statement_timeout'), '30s');
    assert.equal(await show(pool, 'idle_in_transaction_session_timeout'), '1min');
  });

  test('DB_STATEMENT_TIMEOUT: the server cancels a longer statement, the connection stays usable', async () => {
    const pool = poolWith({ DB_STATEMENT_TIMEOUT: '1', DB_POOL_SIZE: '1' });
    assert.equal(await show(pool, 'statement_timeout'), '1s');
    const error = await rejection(pool.query('SELECT pg_sleep(30)'));
    assert.equal(error.code, '57014', error.message);
    assert.match(error.message, /statement timeout/);
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(rows[0]?.one, 1);
  });

  test('DB_IDLE_IN_TRANSACTION_TIMEOUT: the server ends a session left idle in a transaction', async () => {
    const pool = poolWith({ DB_IDLE_IN_TRANSACTION_TIMEOUT: '1', DB_POOL_SIZE: '1' });
    const client = await pool.connect();
    const lost = new Promise<Error>((resolve) => client.once('error', resolve));
    await client.query('BEGIN');
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // The server terminates the backend: it disappears from pg_stat_activity.
    const error = await lost;
    assert.match(error.message, /idle-in-transaction timeout|terminat/i);
    client.release(error);
    const observer = await server.client();
    try {
      const alive = await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [
        rows[0]?.pid,
      ]);
      assert.equal(alive.rowCount, 0);
    } finally {
      await observer.end();
    }
  });
});

describe('a connection black-holed without a reset', () => {
  test('a statement in flight fails, its pool slot is freed, and a new connection works', async () => {
    const pool = poolWith({ DB_STATEMENT_TIMEOUT: '1', DB_POOL_SIZE: '1' }, 'gate');
    await pool.query('SELECT 1');
    assert.equal(pool.totalCount, 1);
    assert.ok(gate.blackHole() >= 1, 'the pooled connection went through the gate');
    const error = await rejection(pool.query('SELECT 1'));
    assert.equal(error.message, 'Query read timeout');
    assert.equal(pool.totalCount, 0, 'the black-holed connection left the pool');
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(rows[0]?.one, 1, 'a new connection through the healthy path works');
  });

  test('inside a transaction: no ROLLBACK wait, and the connection is closed, not reused', async () => {
    const pool = poolWith({ DB_STATEMENT_TIMEOUT: '1', DB_POOL_SIZE: '1' }, 'gate');
    const error = await rejection(
      inTransaction(pool, async (client) => {
        await client.query('SELECT 1');
        gate.blackHole();
        await client.query('SELECT 2');
      }),
    );
    assert.equal(error.message, 'Query read timeout');
    assert.equal(pool.totalCount, 0, 'the black-holed connection left the pool');
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    assert.equal(rows[0]?.one, 1);
  });
});
