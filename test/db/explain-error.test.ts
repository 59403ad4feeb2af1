import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { explainDatabaseError } from '../../app/src/db/explain-error.js';
import { clientConfig } from '../../app/src/db/pool.js';
import { freePort, startPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * The troubleshooting cases, produced for real against PostgreSQL 15 (TLS cases are in
 * sslmode.test.ts): each explanation names the case and what to do, and never the password.
 */
const PASSWORD = 'Expl@in-S3cret:pw';
const APP_PASSWORD = 'app-S3cret-pw';

let server: TestPostgres;
let crowded: TestPostgres;

before(async () => {
  [server, crowded] = await Promise.all([
    startPostgres({ password: PASSWORD }),
    // 4 slots, 1 kept for superusers: a non-superuser role gets at most 3 (fewer while the
    // test's superuser observer is connected).
    startPostgres({
      password: PASSWORD,
      settings: { max_connections: '4', superuser_reserved_connections: '1' },
    }),
  ]);
  const admin = await crowded.client();
  try {
    await admin.query(`create role app login password '${APP_PASSWORD}'`);
  } finally {
    await admin.end();
  }
});

after(async () => {
  await Promise.all([server?.destroy(), crowded?.destroy()]);
});

/** Tries one connection with the app's config; returns the explanation of its failure. */
async function explainFailure(url: string, env: Record<string, string> = {}): Promise<string> {
  const settings = parseDatabaseSettings({ DB_POOL_TIMEOUT: '5', ...env, DATABASE_URL: url });
  const client = new pg.Client(clientConfig(settings));
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    const explained = explainDatabaseError(error, settings);
    for (const secret of [PASSWORD, APP_PASSWORD, encodeURIComponent(PASSWORD)]) {
      assert.ok(!explained.includes(secret), `password in: ${explained}`);
    }
    return explained;
  } finally {
    await client.end().catch(() => {});
  }
  return assert.fail(`connected to ${settings.redactedUrl}`);
}

const encoded = encodeURIComponent(PASSWORD);

describe('explainDatabaseError', () => {
  test('connection refused: a closed port', async () => {
    const port = await freePort();
    const explained = await explainFailure(
      `postgres://postgres:${encoded}@127.0.0.1:${port}/selfmx`,
    );
    assert.match(
      explained,
      new RegExp(`Connection refused by PostgreSQL at 127\\.0\\.0\\.1:${port}`),
    );
    assert.match(explained, /is PostgreSQL running/);
    assert.match(explained, /Docker network/);
  });

  test('a host name that does not resolve', async () => {
    const explained = await explainFailure(`postgres://postgres:${encoded}@db.invalid:5432/selfmx`);
    assert.match(explained, /"db\.invalid" in DATABASE_URL does not resolve/);
  });

  test('a server that accepts TCP but never answers: connection timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const explained = await explainFailure(
        `postgres://postgres:${encoded}@127.0.0.1:${port}/selfmx?sslmode=disable&pool_timeout=1`,
      );
      assert.match(explained, /No answer from PostgreSQL at 127\.0\.0\.1/);
      assert.match(explained, /DB_POOL_TIMEOUT/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('wrong password (28P01)', async () => {
    const explained = await explainFailure(server.url().replace(encoded, 'not-the-password'));
    assert.match(explained, /Password authentication failed for user "postgres"/);
    assert.match(explained, /user name and password in DATABASE_URL/);
    assert.match(explained, /28P01/);
  });

  test('database does not exist (3D000)', async () => {
    const explained = await explainFailure(server.url('', 'no_such_db'));
    assert.match(explained, /Database "no_such_db" does not exist/);
    assert.match(explained, /3D000/);
  });

  test('too many connections (53300): max_connections vs DB_POOL_SIZE', async () => {
    const url = `postgres://app:${APP_PASSWORD}@127.0.0.1:${crowded.port}/postgres?sslmode=disable`;
    const settings = parseDatabaseSettings({ DATABASE_URL: url, DB_POOL_SIZE: '8' });
    const held: pg.Client[] = [];
    try {
      let failure: unknown;
      for (let attempt = 0; attempt < 8 && failure === undefined; attempt++) {
        const client = new pg.Client(clientConfig(settings));
        client.on('error', () => {});
        await client.connect().then(
          () => held.push(client),
          (error: unknown) => {
            failure = error;
          },
        );
      }
      assert.ok(held.length >= 1 && held.length <= 3, `${held.length} connections before refusal`);
      assert.equal((failure as { code?: string }).code, '53300');
      const explained = explainDatabaseError(failure, settings);
      assert.match(explained, /Too many connections/);
      assert.match(explained, /max_connections/);
      assert.match(explained, /DB_POOL_SIZE=8/);
      assert.ok(!explained.includes(APP_PASSWORD));
    } finally {
      await Promise.all(held.map((client) => client.end()));
    }
  });

  test('a common word as password only hides the password, not the explanation', () => {
    const settings = parseDatabaseSettings({
      DATABASE_URL: `postgres://selfmx:password@127.0.0.1:${server.port}/selfmx`,
    });
    const error = Object.assign(new Error('password authentication failed for user "selfmx"'), {
      code: '28P01',
    });
    const explained = explainDatabaseError(error, settings);
    assert.match(explained, /check the user name and password in DATABASE_URL/);
    assert.match(explained, /\[28P01: \*\*\* authentication failed for user "selfmx"\]$/);
  });

  test('any other error keeps the driver message but scrubs the password', () => {
    const settings = parseDatabaseSettings({ DATABASE_URL: server.url() });
    const explained = explainDatabaseError(new Error(`weird failure near ${PASSWORD}`), settings);
    assert.match(explained, /Database error with PostgreSQL at 127\.0\.0\.1/);
    assert.match(explained, /weird failure near \*\*\*/);
    assert.ok(!explained.includes(PASSWORD));
  });
});
