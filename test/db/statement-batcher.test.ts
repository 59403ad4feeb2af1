import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import pg from 'pg';
import { BatchWaitTimeout, StatementBatcher } from '../../app/src/db/statement-batcher.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * Group commit against a real PostgreSQL: the rows of concurrent calls go in one statement,
 * each call gets its own row back, a faulty row fails only its own call, and a call stuck
 * behind locked statements gives up after the pool's wait.
 */
describe('StatementBatcher', () => {
  let postgres: TestPostgres;
  let pool: pg.Pool;
  /** Every statement the batchers under test ran, as the values it inserted. */
  let statements: number[][];

  /** Inserts each value as a row of `items` in one statement; the ids come back in order. */
  const insertValues = async (values: number[]): Promise<string[]> => {
    statements.push(values);
    const { rows } = await pool.query<{ id: string; value: number }>(
      `INSERT INTO items (value) SELECT * FROM unnest($1::int[]) RETURNING id::text, value`,
      [values],
    );
    return values.map((value) => {
      const row = rows.find((r) => r.value === value);
      if (!row) throw new Error(`no row for ${value}`);
      return row.id;
    });
  };

  before(async () => {
    postgres = await startPostgres();
    pool = new pg.Pool({ connectionString: postgres.url(), max: 4 });
    await pool.query(
      'CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY, value int CHECK (value >= 0))',
    );
  });
  beforeEach(async () => {
    statements = [];
    await pool.query('TRUNCATE items');
  });
  after(async () => {
    await pool?.end();
    await postgres?.destroy();
  });

  test('calls made together share one statement and each gets its own row', async () => {
    const batcher = new StatementBatcher(insertValues, { maxBatch: 64, maxInFlight: 2 }, 0);
    const values = Array.from({ length: 20 }, (_, index) => index + 1);
    const ids = await Promise.all(values.map((value) => batcher.submit(value)));
    assert.deepEqual(statements, [values]);
    const { rows } = await pool.query<{ id: string; value: number }>(
      'SELECT id::text, value FROM items',
    );
    for (const [index, value] of values.entries()) {
      assert.equal(rows.find((row) => row.id === ids[index])?.value, value);
    }
  });

  test('a batch holds at most maxBatch rows; a lone call goes at once', async () => {
    const batcher = new StatementBatcher(insertValues, { maxBatch: 4, maxInFlight: 1 }, 0);
    await Promise.all(Array.from({ length: 10 }, (_, index) => batcher.submit(index)));
    assert.deepEqual(
      statements.map((batch) => batch.length),
      [4, 4, 2],
    );
    await batcher.submit(100);
    assert.deepEqual(statements.at(-1), [100]);
  });

  test('a batch holds at most maxSize of content; a larger call goes alone', async () => {
    // Each value's size is the value itself.
    const maxSize = { max: 10, measure: (value: number) => value };
    const batcher = new StatementBatcher(
      insertValues,
      { maxBatch: 64, maxInFlight: 1, maxSize },
      0,
    );
    await Promise.all([4, 3, 3, 1, 25, 2, 8, 9].map((value) => batcher.submit(value)));
    assert.deepEqual(statements, [[4, 3, 3], [1], [25], [2, 8], [9]]);
  });

  test('a row PostgreSQL refuses fails its own call only; the others are stored', async () => {
    const batcher = new StatementBatcher(insertValues, { maxBatch: 64, maxInFlight: 2 }, 0);
    const results = await Promise.allSettled([1, 2, -3, 4].map((value) => batcher.submit(value)));
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    const refused = results[2] as PromiseRejectedResult;
    assert.equal((refused.reason as { code?: string }).code, '23514');
    const { rows } = await pool.query<{ value: number }>('SELECT value FROM items ORDER BY value');
    assert.deepEqual(
      rows.map((row) => row.value),
      [1, 2, 4],
    );
  });

  test('a refused row is found without more concurrent statements than maxInFlight', async () => {
    let running = 0;
    let mostRunning = 0;
    const countRunning = async (values: number[]): Promise<string[]> => {
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      try {
        return await insertValues(values);
      } finally {
        running -= 1;
      }
    };
    const batcher = new StatementBatcher(countRunning, { maxBatch: 64, maxInFlight: 1 }, 0);
    const values = Array.from({ length: 40 }, (_, index) => (index === 29 ? -1 : index + 1));
    const results = await Promise.allSettled(values.map((value) => batcher.submit(value)));
    assert.deepEqual(
      results.flatMap((result, index) => (result.status === 'rejected' ? [values[index]] : [])),
      [-1],
    );
    assert.equal(mostRunning, 1, 'the retries ran side by side');
    // Halving: the first statement, then two per halving down to the single faulty row.
    assert.ok(
      statements.length <= 1 + 2 * Math.ceil(Math.log2(values.length)),
      `${statements.length} statements`,
    );
    const { rows } = await pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM items',
    );
    assert.equal(rows[0]?.count, 39);
  });

  test('any other error fails the whole batch at once, without a retry per call', async () => {
    let runs = 0;
    const batcher = new StatementBatcher(
      async (values: number[]) => {
        runs += 1;
        await pool.query('SELECT * FROM no_such_table');
        return values;
      },
      { maxBatch: 64, maxInFlight: 2 },
      0,
    );
    const results = await Promise.allSettled([1, 2, 3].map((value) => batcher.submit(value)));
    assert.deepEqual(
      results.map((result) => (result as PromiseRejectedResult).reason?.code),
      ['42P01', '42P01', '42P01'],
    );
    assert.equal(runs, 1);
  });

  test('calls stuck behind locked statements give up after maxWaitMs; the running one completes', async () => {
    const batcher = new StatementBatcher(insertValues, { maxBatch: 64, maxInFlight: 1 }, 300);
    const blocker = await postgres.client();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE');
      const running = batcher.submit(1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const began = performance.now();
      const waiting = await Promise.allSettled([batcher.submit(2), batcher.submit(3)]);
      const waitedMs = performance.now() - began;
      for (const result of waiting) {
        assert.equal(result.status, 'rejected');
        assert.ok(result.reason instanceof BatchWaitTimeout);
        assert.match(result.reason.message, /DB_POOL_TIMEOUT/);
      }
      assert.ok(waitedMs >= 250, `gave up after ${waitedMs} ms, before maxWaitMs`);
      await blocker.query('COMMIT');
      assert.ok(await running);
    } finally {
      await blocker.end();
    }
    const { rows } = await pool.query<{ value: number }>('SELECT value FROM items');
    assert.deepEqual(
      rows.map((row) => row.value),
      [1],
    );
  });
});
