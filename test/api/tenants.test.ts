import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Resend } from 'resend';
import { claimEmails } from '../../app/src/queue/queue-store.js';
import { type ApiServer, createKey, email, useApiTestbed } from './api-harness.js';

async function createTenant(server: ApiServer, name: string, limits: Record<string, unknown> = {}) {
  const response = await server.call('POST', '/v1/tenants', { body: { name, limits } });
  assert.equal(response.status, 201, response.text);
  return { id: response.body.id as string, token: response.body.api_key.token as string };
}

describe('tenants and quotas', () => {
  const api = useApiTestbed();

  test('POST /v1/tenants creates a tenant and its first admin key; GET lists it', async () => {
    const response = await api.server.call('POST', '/v1/tenants', {
      body: { name: 'acme', limits: { daily_emails: 1000 } },
    });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.object, 'tenant');
    assert.equal(response.body.disabled, false);
    assert.deepEqual(response.body.limits, {
      requests_per_window: null,
      window_seconds: 60,
      daily_emails: 1000,
      daily_bytes: null,
    });
    assert.deepEqual(response.body.api_key.permissions, ['*']);
    const token = response.body.api_key.token;
    const sent = await api.server.call('POST', '/v1/emails', { key: token, body: email() });
    assert.equal(sent.status, 200, sent.text);
    // The new tenant's emails are its own.
    const own = await api.server.call('GET', `/v1/emails/${sent.body.id}`, { key: token });
    assert.equal(own.status, 200);
    assert.equal((await api.server.call('GET', `/v1/emails/${sent.body.id}`)).status, 404);

    const list = await api.server.call('GET', '/v1/tenants');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((tenant: { name: string }) => tenant.name).slice(0, 2), [
      'default',
      'acme',
    ]);
    const again = await api.server.call('POST', '/v1/tenants', { body: { name: 'acme' } });
    assert.equal(again.status, 409);
    assert.match(again.body.message, /^name: /);
  });

  test("only the operator's tenant administers tenants, even with *", async () => {
    const other = await createTenant(api.server, 'not-the-operator');
    for (const [method, path] of [
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants'],
      ['PATCH', `/v1/tenants/${other.id}`],
    ] as const) {
      const response = await api.server.call(method, path, {
        key: other.token,
        body: method === 'GET' ? undefined : { name: 'x' },
      });
      assert.equal(response.status, 403, `${method} ${path}: ${response.text}`);
      assert.equal(response.body.name, 'restricted_api_key');
    }
    const grant = await api.server.call('POST', '/v1/api-keys', {
      key: other.token,
      body: { name: 'escalate', permissions: ['tenants:write'] },
    });
    assert.equal(grant.status, 403);
    assert.match(grant.body.message, /^permissions: tenants:write/);
  });

  test('past the daily email quota: 429 quota_exceeded with the reset time, and nothing over it is queued, under concurrency', async () => {
    const quota = 7;
    const tenant = await createTenant(api.server, 'quota-emails', { daily_emails: quota });
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        api.server.call('POST', '/v1/emails', { key: tenant.token, body: email() }),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 429);
    assert.equal(accepted.length, quota);
    assert.equal(refused.length, 40 - quota);
    const first = refused[0];
    assert.equal(first?.body.name, 'quota_exceeded');
    assert.match(first?.body.message, /resets at \d{4}-\d\d-\d\dT00:00:00\.000Z/);
    const reset = new Date(first?.headers.get('x-quota-reset') as string);
    assert.equal(reset.getUTCHours(), 0);
    assert.ok(reset.getTime() > Date.now());
    assert.ok(Number(first?.headers.get('retry-after')) >= 1);
    const stored = await api.db.query(
      'SELECT count(*)::int AS n FROM emails WHERE tenant_id = $1',
      [tenant.id],
    );
    assert.equal(stored.rows[0].n, quota);
  });

  test('past the daily byte quota: 429 quota_exceeded', async () => {
    const tenant = await createTenant(api.server, 'quota-bytes', { daily_bytes: 100 });
    const body = email({ subject: 's', text: 'x'.repeat(59) });
    assert.equal(
      (await api.server.call('POST', '/v1/emails', { key: tenant.token, body })).status,
      200,
    );
    const over = await api.server.call('POST', '/v1/emails', { key: tenant.token, body });
    assert.equal(over.status, 429);
    assert.equal(over.body.name, 'quota_exceeded');
    assert.match(over.body.message, /100 bytes of email per UTC day/);
  });

  test("a tenant's request limit counts across all its keys", async () => {
    const tenant = await createTenant(api.server, 'limited', { requests_per_window: 4 });
    const second = await createKey(api.server, ['logs:read'], tenant.token);
    // Creating the second key was the first request.
    const statuses: number[] = [];
    for (const key of [tenant.token, second.token, tenant.token, second.token]) {
      statuses.push((await api.server.call('GET', '/v1/emails', { key })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  test('a disabled tenant: its keys get 403, its queued emails are held; enabling releases them', async () => {
    const tenant = await createTenant(api.server, 'to-disable');
    const sent = await api.server.call('POST', '/v1/emails', { key: tenant.token, body: email() });
    assert.equal(sent.status, 200);
    // Everything else already queued goes first, so that only this tenant's email is left.
    while ((await claimEmails(api.server.pool, 'drain', 100, 60)).length > 0) {}
    await api.db.query(`UPDATE emails SET status = 'queued' WHERE id = $1`, [sent.body.id]);

    const disable = await api.server.call('PATCH', `/v1/tenants/${tenant.id}`, {
      body: { disabled: true },
    });
    assert.equal(disable.status, 200, disable.text);
    assert.equal(disable.body.disabled, true);
    const refused = await api.server.call('POST', '/v1/emails', {
      key: tenant.token,
      body: email(),
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.name, 'tenant_disabled');
    assert.deepEqual(await claimEmails(api.server.pool, 'held', 100, 60), []);

    const enable = await api.server.call('PATCH', `/v1/tenants/${tenant.id}`, {
      body: { disabled: false },
    });
    assert.equal(enable.body.disabled, false);
    const claimed = await claimEmails(api.server.pool, 'released', 100, 60);
    assert.deepEqual(
      claimed.map((row) => row.id),
      [sent.body.id],
    );
    const operator = (await api.server.call('GET', '/v1/tenants')).body.data[0].id;
    const self = await api.server.call('PATCH', `/v1/tenants/${operator}`, {
      body: { disabled: true },
    });
    assert.equal(self.status, 409);
  });

  test('GET /v1/usage through the Resend SDK: emails and bytes accepted today and this month', async () => {
    const tenant = await createTenant(api.server, 'usage', { daily_emails: 50 });
    for (let i = 0; i < 3; i++) {
      const body = email({ subject: 'abc', text: 'hello' });
      assert.equal(
        (await api.server.call('POST', '/v1/emails', { key: tenant.token, body })).status,
        200,
      );
    }
    const resend = new Resend(tenant.token, { baseUrl: `${api.server.url}/v1` });
    const { data, error } = await resend.usage.get();
    assert.equal(error, null);
    assert.ok(data);
    assert.equal(data.object, 'usage');
    const daily = data.emails.daily as unknown as Record<string, unknown>;
    assert.equal(daily.used, 3);
    assert.equal(daily.limit, 50);
    assert.equal(daily.accepted, 3);
    assert.equal(daily.bytes, 3 * 8);
    assert.equal(daily.delivered, 0);
    assert.equal((data.emails.monthly as unknown as Record<string, unknown>).accepted, 3);
    assert.equal(typeof data.rate_limit.limit, 'number');
  });
});
