import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { email, insertTenantWithKey, useApiTestbed } from './api-harness.js';

describe('tenant isolation: every row read or written is scoped to the key’s tenant', () => {
  const api = useApiTestbed();
  let other: { tenantId: string; token: string; keyId: string };
  const mine: Record<string, string> = {};

  before(async () => {
    other = await insertTenantWithKey(api.db, 'other-tenant', ['*']);
    mine.email = (
      await api.server.call('POST', '/v1/emails', { body: email({ subject: 'mine' }) })
    ).body.id;
    mine.template = (
      await api.server.call('POST', '/v1/templates', {
        body: { name: 'shared-name', subject: 'Mine', text: 'mine' },
      })
    ).body.id;
    mine.key = (
      await api.server.call('POST', '/v1/api-keys', {
        body: { name: 'mine', permissions: ['send'] },
      })
    ).body.id;
  });

  const asOther = (method: string, path: string, body?: unknown) =>
    api.server.call(method, path, { key: other.token, body });

  test('the other tenant cannot read, change or delete my rows (404, as if they did not exist)', async () => {
    const attempts: [string, string, unknown?][] = [
      ['GET', `/v1/emails/${mine.email}`],
      ['GET', `/v1/logs?email_id=${mine.email}`],
      ['GET', `/v1/templates/${mine.template}`],
      ['PATCH', `/v1/templates/${mine.template}`, { text: 'hijacked' }],
      ['PUT', `/v1/templates/${mine.template}`, { text: 'hijacked' }],
      ['DELETE', `/v1/templates/${mine.template}`],
      ['DELETE', `/v1/api-keys/${mine.key}`],
    ];
    for (const [method, path, body] of attempts) {
      const response = await asOther(method, path, body);
      assert.equal(response.status, 404, `${method} ${path}: ${response.text}`);
    }
    const template = await api.server.call('GET', `/v1/templates/${mine.template}`);
    assert.equal(template.body.text, 'mine');
    const key = await api.db.query('SELECT revoked_at FROM api_keys WHERE id = $1', [mine.key]);
    assert.equal(key.rows[0].revoked_at, null);
  });

  test('lists show only the tenant’s own rows', async () => {
    const emails = await asOther('GET', '/v1/emails');
    assert.equal(emails.body.total, 0);
    const templates = await asOther('GET', '/v1/templates');
    assert.equal(templates.body.total, 0);
    const keys = await asOther('GET', '/v1/api-keys');
    assert.deepEqual(
      keys.body.data.map((k: { id: string }) => k.id),
      [other.keyId],
    );
    const audit = await asOther('GET', '/v1/audit');
    assert.ok(
      audit.body.data.every(
        (entry: { actor_key_id: string | null }) => entry.actor_key_id === other.keyId,
      ),
    );
  });

  test('the other tenant cannot send with my template, and may reuse its name', async () => {
    const byId = await asOther(
      'POST',
      '/v1/emails',
      email({ template_id: mine.template, subject: undefined, text: undefined }),
    );
    assert.equal(byId.status, 422);
    assert.match(byId.body.message, /^template_id: /);
    const byName = await asOther(
      'POST',
      '/v1/emails',
      email({ template_id: 'shared-name', subject: undefined, text: undefined }),
    );
    assert.equal(byName.status, 422);
    const own = await asOther('POST', '/v1/templates', {
      name: 'shared-name',
      subject: 'Theirs',
      text: 'theirs',
    });
    assert.equal(own.status, 201);
  });

  test('what the other tenant writes belongs to it', async () => {
    const sent = await asOther('POST', '/v1/emails', email({ subject: 'theirs' }));
    assert.equal(sent.status, 200);
    const row = await api.db.query('SELECT tenant_id, api_key_id FROM emails WHERE id = $1', [
      sent.body.id,
    ]);
    assert.deepEqual(row.rows[0], { tenant_id: other.tenantId, api_key_id: other.keyId });
    assert.equal((await api.server.call('GET', `/v1/emails/${sent.body.id}`)).status, 404);
    const mineList = await api.server.call('GET', '/v1/emails');
    assert.ok(mineList.body.data.every((e: { subject: string }) => e.subject !== 'theirs'));
  });
});
