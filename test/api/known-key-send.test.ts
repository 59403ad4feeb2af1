import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { TestPostgres } from '../support/postgres.js';
import {
  type ApiServer,
  createKey,
  email,
  insertTenantWithKey,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

/**
 * A send with a key that authenticated moments ago is authenticated, counted and queued by the
 * accept statement (no lookup before the body): every guarantee of the lookup path must hold.
 */
describe('sends with a known key: authenticated, counted and queued in one statement', () => {
  let postgres: TestPostgres;
  let db: pg.Client;
  let first: ApiServer;
  let second: ApiServer;

  before(async () => {
    postgres = await startMigratedPostgres();
    // A long window, so each test runs inside one window.
    const env = { RATE_LIMIT_REQUESTS: '10', RATE_LIMIT_WINDOW: '3600' };
    first = await startApiServer(postgres, env);
    second = await startApiServer(postgres, env);
    db = await postgres.client('selfmx');
  });
  after(async () => {
    await db?.end();
    await first?.close();
    await second?.close();
    await postgres?.destroy();
  });

  const send = (server: ApiServer, token: string, body: unknown = email()) =>
    server.call('POST', '/v1/emails', { key: token, body });
  const queuedBy = async (keyId: string) => {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM emails WHERE api_key_id = $1',
      [keyId],
    );
    return rows[0]?.n;
  };

  test('two instances share the budget; a send over it gets 429 and queues nothing', async () => {
    const key = await createKey(first, ['send']);
    for (let i = 0; i < 10; i++) {
      const response = await send(i % 2 === 0 ? first : second, key.token);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers.get('ratelimit-limit'), '10');
      assert.equal(response.headers.get('ratelimit-remaining'), String(9 - i));
    }
    for (const server of [first, second]) {
      const refused = await send(server, key.token);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.name, 'rate_limit_exceeded');
      assert.match(refused.body.message, /this API key may make 10 requests per 3600 s/);
      assert.equal(refused.headers.get('ratelimit-remaining'), '0');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    }
    assert.equal(await queuedBy(key.id), 10);
  });

  test('concurrent sends never pass the limit', async () => {
    const key = await createKey(first, ['send']);
    for (const server of [first, second]) {
      assert.equal((await send(server, key.token)).status, 200);
    }
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => send(i % 2 === 0 ? first : second, key.token)),
    );
    assert.equal(answers.filter((a) => a.status === 200).length, 8);
    assert.equal(answers.filter((a) => a.status === 429).length, 22);
    assert.equal(await queuedBy(key.id), 10);
  });

  test('a key revoked behind the instance is refused on its next send', async () => {
    const key = await createKey(first, ['send']);
    assert.equal((await send(first, key.token)).status, 200);
    await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    for (let i = 0; i < 2; i++) {
      const refused = await send(first, key.token);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.name, 'invalid_api_key');
    }
    assert.equal(await queuedBy(key.id), 1);
  });

  test('a known key of a tenant disabled behind the instance gets 403; nothing is queued', async () => {
    const tenant = await insertTenantWithKey(db, 'known-key-disabled', ['send']);
    assert.equal((await send(first, tenant.token)).status, 200);
    await db.query('UPDATE tenants SET disabled_at = now() WHERE id = $1', [tenant.tenantId]);
    const refused = await send(first, tenant.token);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.name, 'tenant_disabled');
    assert.equal(await queuedBy(tenant.keyId), 1);
  });

  test("the tenant's limit across its keys holds for known keys", async () => {
    const tenant = await insertTenantWithKey(db, 'known-key-limited', ['send']);
    await db.query('UPDATE tenants SET rate_limit_requests = 3 WHERE id = $1', [tenant.tenantId]);
    const other = await db.query<{ id: string }>(
      `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, permissions)
       SELECT tenant_id, 'second key', prefix || '2', sha256(key_hash), permissions
       FROM api_keys WHERE id = $1 RETURNING id`,
      [tenant.keyId],
    );
    assert.ok(other.rows[0]);
    assert.equal((await send(first, tenant.token)).status, 200);
    assert.equal((await send(second, tenant.token)).status, 200);
    assert.equal((await send(first, tenant.token)).status, 200);
    const refused = await send(second, tenant.token);
    assert.equal(refused.status, 429);
    assert.match(refused.body.message, /tenant may make 3 requests per window/);
    assert.equal(refused.headers.get('ratelimit-limit'), '3');
    assert.equal(await queuedBy(tenant.keyId), 3);
  });

  test('a known key request refused for its body still counts; past the limit, 429 wins', async () => {
    const key = await createKey(first, ['send']);
    assert.equal((await send(first, key.token)).status, 200);
    for (let i = 1; i < 10; i++) {
      const invalid = await send(first, key.token, email({ from: 'not an address' }));
      assert.equal(invalid.status, 422, invalid.text);
      assert.equal(invalid.headers.get('ratelimit-remaining'), String(9 - i));
    }
    const overInvalid = await send(first, key.token, email({ from: 'not an address' }));
    assert.equal(overInvalid.status, 429);
    assert.equal((await send(first, key.token)).status, 429);
    assert.equal(await queuedBy(key.id), 1);
  });

  test('a known key without the send permission gets 403, and the request counts', async () => {
    const key = await createKey(first, ['logs:read']);
    assert.equal((await first.call('GET', '/v1/emails', { key: key.token })).status, 200);
    const forbidden = await send(first, key.token);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.name, 'restricted_api_key');
    assert.equal(forbidden.headers.get('ratelimit-remaining'), '8');
  });
});
