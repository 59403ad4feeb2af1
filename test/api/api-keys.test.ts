import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  BOOTSTRAP_KEY,
  email,
  insertTenantWithKey,
  startApiServer,
  useApiTestbed,
} from './api-harness.js';

describe('API keys: created once, stored hashed, listed without secrets, revoked at once', () => {
  const api = useApiTestbed();

  test('the bootstrap key is API_KEY, stored only as its SHA-256', async () => {
    const { rows } = await api.db.query(
      'SELECT key_hash, prefix, permissions, is_bootstrap FROM api_keys',
    );
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].key_hash, createHash('sha256').update(BOOTSTRAP_KEY).digest());
    assert.equal(rows[0].prefix, 'API_KEY');
    assert.deepEqual(rows[0].permissions, ['*']);
  });

  test('create: smx_ + 32 random bytes, shown once; only the hash is stored', async () => {
    const created = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'ci', permissions: ['send'] },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.token, /^smx_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.prefix, created.body.token.slice(0, 12));
    const { rows } = await api.db.query('SELECT * FROM api_keys WHERE id = $1', [created.body.id]);
    assert.deepEqual(rows[0].key_hash, createHash('sha256').update(created.body.token).digest());
    assert.ok(!JSON.stringify(rows[0]).includes(created.body.token.slice(12)));
    const sent = await api.server.call('POST', '/v1/emails', {
      key: created.body.token,
      body: email(),
    });
    assert.equal(sent.status, 200);
  });

  test('Resend’s permission shorthand: sending_access and full_access', async () => {
    const sending = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'r1', permission: 'sending_access' },
    });
    assert.deepEqual(sending.body.permissions, ['send']);
    const full = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'r2', permission: 'full_access' },
    });
    assert.deepEqual(full.body.permissions, ['*']);
  });

  test('list never shows a key, and tracks last_used_at', async () => {
    const created = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'tracked', permissions: ['logs:read'] },
    });
    let listed = await api.server.call('GET', '/v1/api-keys?limit=100');
    const before = listed.body.data.find((k: { id: string }) => k.id === created.body.id);
    assert.equal(before.last_used_at, null);
    assert.equal(
      (await api.server.call('GET', '/v1/emails', { key: created.body.token })).status,
      200,
    );
    // last_used_at is written after the answer, off the request path.
    for (let i = 0; i < 300; i++) {
      listed = await api.server.call('GET', '/v1/api-keys?limit=100');
      if (listed.body.data.find((k: { id: string }) => k.id === created.body.id).last_used_at)
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(listed.body.data.find((k: { id: string }) => k.id === created.body.id).last_used_at);
    assert.ok(!listed.text.includes(created.body.token));
    assert.ok(
      listed.body.data.every((k: Record<string, unknown>) => !('token' in k) && !('key_hash' in k)),
    );
  });

  test('revoke: the key stops working at once; revoked keys are listed on request', async () => {
    const created = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'short-lived', permissions: ['send'] },
    });
    const revoked = await api.server.call('DELETE', `/v1/api-keys/${created.body.id}`);
    assert.equal(revoked.status, 200);
    const refused = await api.server.call('POST', '/v1/emails', {
      key: created.body.token,
      body: email(),
    });
    assert.equal(refused.status, 401);
    assert.equal((await api.server.call('DELETE', `/v1/api-keys/${created.body.id}`)).status, 404);
    const live = await api.server.call('GET', '/v1/api-keys?limit=100');
    assert.ok(!live.body.data.some((k: { id: string }) => k.id === created.body.id));
    const all = await api.server.call('GET', '/v1/api-keys?limit=100&include_revoked=true');
    assert.ok(all.body.data.find((k: { id: string }) => k.id === created.body.id).revoked_at);
  });

  test('DELETE with a JSON content type and no body (as Resend’s SDKs send it) works', async () => {
    const created = await api.server.call('POST', '/v1/api-keys', {
      body: { name: 'sdk', permissions: ['send'] },
    });
    const response = await api.server.call('DELETE', `/v1/api-keys/${created.body.id}`, {
      headers: { 'content-type': 'application/json' },
      rawBody: '',
    });
    assert.equal(response.status, 200, response.text);
  });

  test('the bootstrap key cannot be revoked through the API (it follows API_KEY)', async () => {
    const { rows } = await api.db.query('SELECT id FROM api_keys WHERE is_bootstrap');
    const response = await api.server.call('DELETE', `/v1/api-keys/${rows[0].id}`);
    assert.equal(response.status, 409);
  });

  test('key creation and revocation are audited with actor, target and request id', async () => {
    const audit = await api.server.call('GET', '/v1/audit?target_type=api_key&limit=100');
    const actions = audit.body.data.map((entry: { action: string }) => entry.action);
    assert.ok(actions.includes('api_key.created'));
    assert.ok(actions.includes('api_key.revoked'));
    assert.ok(actions.includes('api_key.bootstrap_created'));
    const revoked = audit.body.data.find(
      (entry: { action: string }) => entry.action === 'api_key.revoked',
    );
    assert.ok(
      revoked.actor_key_id && revoked.target_id && revoked.request_id && revoked.created_at,
    );
    const filtered = await api.server.call(
      'GET',
      `/v1/audit?action=api_key.revoked&actor_key_id=${revoked.actor_key_id}&target_id=${revoked.target_id}`,
    );
    assert.equal(filtered.body.total, 1);
    const paged = await api.server.call('GET', '/v1/audit?limit=1&page=2');
    assert.equal(paged.body.data.length, 1);
    assert.equal(paged.body.page, 2);
  });

  test('API_KEYS_PER_TENANT caps the live keys of a tenant; revoking makes room', async () => {
    const tenant = await insertTenantWithKey(api.db, 'capped tenant', ['*']);
    const capped = await startApiServer(api.postgres, { API_KEYS_PER_TENANT: '3' });
    try {
      const create = (name: string) =>
        capped.call('POST', '/v1/api-keys', {
          key: tenant.token,
          body: { name, permissions: ['send'] },
        });
      const created = await Promise.all([create('one'), create('two'), create('three')]);
      const statuses = created.map((response) => response.status).sort();
      assert.deepEqual(statuses, [201, 201, 409]);
      const refused = created.find((response) => response.status === 409);
      assert.match(refused?.body.message, /3 live API keys.*API_KEYS_PER_TENANT/);
      const { rows } = await api.db.query(
        'SELECT count(*)::int AS live FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL',
        [tenant.tenantId],
      );
      assert.equal(rows[0].live, 3);
      const first = created.find((response) => response.status === 201);
      const revoked = await capped.call('DELETE', `/v1/api-keys/${first?.body.id}`, {
        key: tenant.token,
      });
      assert.equal(revoked.status, 200);
      assert.equal((await create('four')).status, 201);
      // Another tenant's keys do not count against this one.
      const other = await insertTenantWithKey(api.db, 'uncapped tenant', ['*']);
      const otherCreated = await capped.call('POST', '/v1/api-keys', {
        key: other.token,
        body: { name: 'other', permissions: ['send'] },
      });
      assert.equal(otherCreated.status, 201);
    } finally {
      await capped.close();
    }
  });
});
