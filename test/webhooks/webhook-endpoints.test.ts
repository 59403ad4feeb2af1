import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Resend } from 'resend';
import { BOOTSTRAP_KEY, insertTenantWithKey, useApiTestbed } from '../api/api-harness.js';

/** /v1/webhooks driven through Resend's official Node SDK, pointed at SelfMX. */
describe('webhook endpoints through the Resend SDK', () => {
  const api = useApiTestbed({
    RATE_LIMIT_REQUESTS: '10000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_ALLOW_HTTP_HOSTS: 'localhost,127.0.0.1',
  });
  let resend: Resend;
  before(() => {
    resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${api.server.url}/v1` });
  });

  test('create, get, list, update, rotate the secret, delete', async () => {
    const created = await resend.webhooks.create({
      endpoint: 'http://127.0.0.1:9/hooks',
      events: ['email.delivered', 'email.bounced'],
    });
    assert.equal(created.error, null, JSON.stringify(created.error));
    assert.equal(created.data?.object, 'webhook');
    const id = created.data?.id ?? '';
    assert.match(created.data?.signing_secret ?? '', /^whsec_[A-Za-z0-9+/]{43}=$/);

    const got = await resend.webhooks.get(id);
    assert.equal(got.data?.status, 'enabled');
    assert.equal(got.data?.endpoint, 'http://127.0.0.1:9/hooks');
    assert.deepEqual(got.data?.events, ['email.delivered', 'email.bounced']);
    assert.equal(got.data?.signing_secret, created.data?.signing_secret);

    const listed = await resend.webhooks.list({ limit: 10 });
    assert.equal(listed.data?.object, 'list');
    assert.ok(listed.data?.data.some((webhook) => webhook.id === id));

    const updated = await resend.webhooks.update(id, {
      status: 'disabled',
      events: ['email.failed'],
      endpoint: 'http://localhost:9/other',
    });
    assert.deepEqual(updated.data, { object: 'webhook', id });
    const after = await resend.webhooks.get(id);
    assert.equal(after.data?.status, 'disabled');
    assert.deepEqual(after.data?.events, ['email.failed']);
    assert.equal(after.data?.endpoint, 'http://localhost:9/other');

    const rotated = await resend.webhooks.rotateSigningSecret(id);
    assert.equal(rotated.data?.id, id);
    assert.notEqual(rotated.data?.signing_secret, created.data?.signing_secret);
    assert.equal(
      (await resend.webhooks.get(id)).data?.signing_secret,
      rotated.data?.signing_secret,
    );

    const removed = await resend.webhooks.remove(id);
    assert.deepEqual(removed.data, { object: 'webhook', id, deleted: true });
    assert.equal((await resend.webhooks.get(id)).error?.statusCode, 404);

    const { rows } = await api.db.query<{ action: string; detail: unknown }>(
      `SELECT action, detail FROM audit_logs WHERE target_id = $1 ORDER BY id`,
      [id],
    );
    assert.deepEqual(
      rows.map((row) => row.action),
      ['webhook.created', 'webhook.updated', 'webhook.secret_rotated', 'webhook.deleted'],
    );
    assert.doesNotMatch(JSON.stringify(rows), /whsec_/, 'no audit entry holds a secret');
  });

  test('list pages with limit and after', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) {
      const made = await resend.webhooks.create({
        endpoint: `https://127.0.0.1/page-${index}`,
        events: ['email.sent'],
      });
      ids.push(made.data?.id ?? '');
    }
    const first = await resend.webhooks.list({ limit: 2 });
    assert.equal(first.data?.has_more, true);
    assert.deepEqual(
      first.data?.data.map((webhook) => webhook.id),
      [ids[2], ids[1]],
    );
    const second = await resend.webhooks.list({ limit: 2, after: ids[1] });
    assert.equal(second.data?.data[0]?.id, ids[0]);
  });

  test('refuses an unknown event, plain http to other hosts, and names the field', async () => {
    const unknown = await resend.webhooks.create({
      endpoint: 'https://127.0.0.1/x',
      events: ['contact.created'],
    });
    assert.equal(unknown.error?.statusCode, 422);
    assert.match(unknown.error?.message ?? '', /events/);
    const plain = await resend.webhooks.create({
      endpoint: 'http://example.invalid/x',
      events: ['email.sent'],
    });
    assert.equal(plain.error?.statusCode, 422);
    assert.match(plain.error?.message ?? '', /^endpoint: must use https.*WEBHOOK_ALLOW_HTTP_HOSTS/);
  });

  test('webhooks belong to the tenant: another tenant sees none of them', async () => {
    const made = await resend.webhooks.create({
      endpoint: 'https://127.0.0.1/mine',
      events: ['email.sent'],
    });
    const other = await insertTenantWithKey(api.db, 'webhook-other-tenant', ['*']);
    const theirs = new Resend(other.token, { baseUrl: `${api.server.url}/v1` });
    const id = made.data?.id ?? '';
    assert.equal((await theirs.webhooks.get(id)).error?.statusCode, 404);
    assert.equal((await theirs.webhooks.update(id, { status: 'disabled' })).error?.statusCode, 404);
    assert.equal((await theirs.webhooks.remove(id)).error?.statusCode, 404);
    assert.equal((await theirs.webhooks.rotateSigningSecret(id)).error?.statusCode, 404);
    assert.deepEqual((await theirs.webhooks.list()).data?.data, []);
  });
});
