import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AppProcess, startApp } from '../support/app-process.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { call, email } from './api-harness.js';

const API_KEY = 'concurrent-start-bootstrap-key-42';

describe('two serve processes starting together on a fresh database', () => {
  let postgres: TestPostgres;
  let apps: AppProcess[] = [];

  before(async () => {
    postgres = await startPostgres({ database: 'selfmx' });
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    await postgres?.destroy();
  });

  test('both migrate-or-wait, agree on one bootstrap key, serve, and stop with 0', async () => {
    const env = {
      DATABASE_URL: postgres.url('sslmode=disable'),
      API_KEY,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: '1',
      SMTP_TLS: 'false',
      QUEUE_WORKERS: '0',
    };
    apps = await Promise.all([startApp({ env }), startApp({ env })]);
    for (const app of apps) {
      const sent = await call(app.url, 'POST', '/v1/emails', { key: API_KEY, body: email() });
      assert.equal(sent.status, 200, sent.text);
    }
    const client = await postgres.client('selfmx');
    try {
      const keys = await client.query(
        'SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL',
      );
      assert.equal(keys.rows[0].n, 1);
      const tenants = await client.query('SELECT count(*)::int AS n FROM tenants');
      assert.equal(tenants.rows[0].n, 1);
    } finally {
      await client.end();
    }
    const codes = await Promise.all(apps.map((app) => app.stop()));
    apps = [];
    assert.deepEqual(codes, [0, 0]);
  });
});
