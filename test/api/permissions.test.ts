import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { PERMISSIONS } from '../../app/src/auth/permissions.js';
import { createKey, email, eventually, useApiTestbed } from './api-harness.js';

interface Endpoint {
  method: string;
  path: string;
  permission: string | null;
  request: () => { path?: string; body?: unknown };
}

describe('permission matrix: every endpoint × every permission', () => {
  const api = useApiTestbed();
  let emailId: string;
  let templateId: string;
  let counter = 0;

  before(async () => {
    emailId = (await api.server.call('POST', '/v1/emails', { body: email() })).body.id;
    const template = await api.server.call('POST', '/v1/templates', {
      body: { name: 'matrix', subject: 'Hi {{name}}', text: 'Hello {{name}}' },
    });
    templateId = template.body.id;
  });

  const endpoints = (): Endpoint[] => [
    { method: 'GET', path: '/health', permission: null, request: () => ({}) },
    { method: 'GET', path: '/metrics', permission: 'metrics:read', request: () => ({}) },
    { method: 'GET', path: '/openapi.json', permission: null, request: () => ({}) },
    { method: 'POST', path: '/v1/emails', permission: 'send', request: () => ({ body: email() }) },
    { method: 'POST', path: '/v1/send', permission: 'send', request: () => ({ body: email() }) },
    { method: 'GET', path: '/v1/emails', permission: 'logs:read', request: () => ({}) },
    {
      method: 'GET',
      path: '/v1/emails/{id}',
      permission: 'logs:read',
      request: () => ({ path: `/v1/emails/${emailId}` }),
    },
    {
      method: 'POST',
      path: '/v1/emails/{id}/retry',
      permission: 'send',
      // A queued email cannot be retried: 409 to a key that may, 403 to one that may not.
      request: () => ({ path: `/v1/emails/${emailId}/retry` }),
    },
    {
      method: 'POST',
      path: '/v1/emails/batch',
      permission: 'send',
      request: () => ({ body: [email(), email()] }),
    },
    {
      method: 'PATCH',
      path: '/v1/emails/{id}',
      permission: 'send',
      request: () => ({ path: `/v1/emails/${randomUUID()}`, body: { scheduled_at: 'in 1 hour' } }),
    },
    {
      method: 'POST',
      path: '/v1/emails/{id}/cancel',
      permission: 'send',
      request: () => ({ path: `/v1/emails/${randomUUID()}/cancel` }),
    },
    {
      method: 'GET',
      path: '/v1/logs',
      permission: 'logs:read',
      request: () => ({ path: `/v1/logs?email_id=${emailId}` }),
    },
    {
      method: 'POST',
      path: '/v1/templates',
      permission: 'templates:write',
      request: () => ({ body: { name: `t${++counter}`, subject: 's', text: 't' } }),
    },
    { method: 'GET', path: '/v1/templates', permission: 'templates:read', request: () => ({}) },
    {
      method: 'GET',
      path: '/v1/templates/{id}',
      permission: 'templates:read',
      request: () => ({ path: `/v1/templates/${templateId}` }),
    },
    {
      method: 'PATCH',
      path: '/v1/templates/{id}',
      permission: 'templates:write',
      request: () => ({ path: `/v1/templates/${templateId}`, body: { text: 'patched {{name}}' } }),
    },
    {
      method: 'PUT',
      path: '/v1/templates/{id}',
      permission: 'templates:write',
      request: () => ({ path: `/v1/templates/${templateId}`, body: { subject: 'put {{name}}' } }),
    },
    {
      method: 'DELETE',
      path: '/v1/templates/{id}',
      permission: 'templates:write',
      request: () => ({ path: `/v1/templates/${randomUUID()}` }),
    },
    {
      method: 'POST',
      path: '/v1/api-keys',
      permission: 'api-keys:write',
      request: () => ({ body: { name: 'child', permissions: ['api-keys:write'] } }),
    },
    { method: 'GET', path: '/v1/api-keys', permission: 'api-keys:read', request: () => ({}) },
    {
      method: 'DELETE',
      path: '/v1/api-keys/{id}',
      permission: 'api-keys:write',
      request: () => ({ path: `/v1/api-keys/${randomUUID()}` }),
    },
    { method: 'GET', path: '/v1/audit', permission: 'logs:read', request: () => ({}) },
    { method: 'POST', path: '/v1/test-smtp', permission: 'send', request: () => ({}) },
    ...webhookEndpoints(),
    ...suppressionEndpoints(),
    {
      method: 'POST',
      path: '/v1/tenants',
      permission: 'tenants:write',
      request: () => ({ body: { name: `matrix tenant ${++counter}` } }),
    },
    { method: 'GET', path: '/v1/tenants', permission: 'tenants:read', request: () => ({}) },
    {
      method: 'PATCH',
      path: '/v1/tenants/{id}',
      permission: 'tenants:write',
      request: () => ({ path: `/v1/tenants/${randomUUID()}`, body: { name: 'renamed' } }),
    },
    { method: 'GET', path: '/v1/usage', permission: 'logs:read', request: () => ({}) },
  ];

  test('the matrix covers every operation of /openapi.json, with the permission it documents', async () => {
    const document = (await api.server.call('GET', '/openapi.json', { key: null })).body;
    const documented = Object.entries(
      document.paths as Record<string, Record<string, { 'x-permission'?: string }>>,
    )
      .flatMap(([path, operations]) =>
        Object.entries(operations).map(
          ([method, op]) => `${method.toUpperCase()} ${path} ${op['x-permission'] ?? 'public'}`,
        ),
      )
      .sort();
    const tested = endpoints()
      .map((e) => `${e.method} ${e.path} ${e.permission ?? 'public'}`)
      .sort();
    assert.deepEqual(tested, documented);
  });

  test('public endpoints answer without a key', async () => {
    for (const endpoint of endpoints().filter((e) => e.permission === null)) {
      const response = await api.server.call(endpoint.method, endpoint.path, { key: null });
      assert.equal(response.status, 200, `${endpoint.method} ${endpoint.path}`);
    }
  });

  test('without a key, or with an unknown or revoked key: 401 in the error shape', async () => {
    const revoked = await createKey(api.server, ['*']);
    assert.equal((await api.server.call('DELETE', `/v1/api-keys/${revoked.id}`)).status, 200);
    for (const endpoint of endpoints().filter((e) => e.permission !== null)) {
      const request = endpoint.request();
      for (const key of [null, 'smx_not-a-real-key', revoked.token]) {
        const response = await api.server.call(endpoint.method, request.path ?? endpoint.path, {
          key,
          body: request.body,
        });
        assert.equal(response.status, 401, `${endpoint.method} ${endpoint.path} key=${key}`);
        assert.equal(response.body.statusCode, 401);
        assert.match(response.body.name, /^(missing|invalid)_api_key$/);
      }
    }
  });

  for (const permission of PERMISSIONS) {
    test(`a key with only "${permission}" gets 403 exactly where it lacks the permission`, async () => {
      const key = await createKey(api.server, [permission]);
      for (const endpoint of endpoints().filter((e) => e.permission !== null)) {
        const request = endpoint.request();
        const response = await api.server.call(endpoint.method, request.path ?? endpoint.path, {
          key: key.token,
          body: request.body,
        });
        const allowed = permission === '*' || permission === endpoint.permission;
        const where = `${endpoint.method} ${endpoint.path} with ${permission}: ${response.status} ${response.text}`;
        if (allowed) {
          assert.ok(![401, 403].includes(response.status), where);
          assert.ok(response.status < 500 || endpoint.path === '/v1/test-smtp', where);
        } else {
          assert.equal(response.status, 403, where);
          assert.equal(response.body.name, 'restricted_api_key');
          assert.match(response.body.message, new RegExp(`"${endpoint.permission}"`));
        }
      }
    });
  }

  test('failed authentications are audited (visible to the bootstrap key)', async () => {
    // Failures are written in aggregates, once a second, off the request path.
    const audit = await eventually(async () => {
      const response = await api.server.call('GET', '/v1/audit?action=auth.failed&limit=100');
      assert.equal(response.status, 200);
      const reasons = new Set(
        response.body.data.map((entry: { detail: { reason: string } }) => entry.detail.reason),
      );
      return reasons.size === 3 ? { response, reasons } : undefined;
    });
    assert.deepEqual([...audit.reasons].sort(), ['missing', 'revoked', 'unknown']);
    assert.ok(
      audit.response.body.data.every(
        (entry: { request_id: string | null; detail: { count: number } }) =>
          entry.request_id && entry.detail.count >= 1,
      ),
    );
  });

  test('a key cannot grant a permission it does not hold', async () => {
    const writer = await createKey(api.server, ['api-keys:write']);
    const response = await api.server.call('POST', '/v1/api-keys', {
      key: writer.token,
      body: { name: 'escalate', permissions: ['*'] },
    });
    assert.equal(response.status, 403);
    assert.match(response.body.message, /permissions/);
  });

  test('an api-keys:write key revokes only keys whose permissions it could grant', async () => {
    const writer = await createKey(api.server, ['api-keys:write', 'send']);
    const admin = await createKey(api.server, ['*']);
    const reader = await createKey(api.server, ['logs:read']);
    const sender = await createKey(api.server, ['send']);
    for (const target of [admin, reader]) {
      const refused = await api.server.call('DELETE', `/v1/api-keys/${target.id}`, {
        key: writer.token,
      });
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.body.name, 'restricted_api_key');
      assert.match(refused.body.message, /^id: this API key can only revoke keys/);
      const stillWorks = await api.server.call('GET', '/v1/api-keys', { key: admin.token });
      assert.equal(stillWorks.status, 200);
    }
    const revoked = await api.server.call('DELETE', `/v1/api-keys/${sender.id}`, {
      key: writer.token,
    });
    assert.equal(revoked.status, 200, revoked.text);
    const bootstrapStillRevokes = await api.server.call('DELETE', `/v1/api-keys/${reader.id}`);
    assert.equal(bootstrapStillRevokes.status, 200);
  });
});

/** /v1/webhooks: an unknown id answers 404 to a key that may, 403 to one that may not. */
function webhookEndpoints(): Endpoint[] {
  const byId = (method: string, suffix: string, permission: string, body?: unknown): Endpoint => ({
    method,
    path: `/v1/webhooks/{id}${suffix}`,
    permission,
    request: () => ({ path: `/v1/webhooks/${randomUUID()}${suffix}`, body }),
  });
  const event = (method: string, suffix: string, permission: string): Endpoint => ({
    method,
    path: `/v1/webhooks/{id}/events/{eventId}${suffix}`,
    permission,
    request: () => ({ path: `/v1/webhooks/${randomUUID()}/events/${randomUUID()}${suffix}` }),
  });
  return [
    {
      method: 'POST',
      path: '/v1/webhooks',
      permission: 'webhooks:write',
      request: () => ({ body: { endpoint: 'https://example.invalid/h', events: ['email.sent'] } }),
    },
    { method: 'GET', path: '/v1/webhooks', permission: 'webhooks:read', request: () => ({}) },
    byId('GET', '', 'webhooks:read'),
    byId('PATCH', '', 'webhooks:write', { status: 'disabled' }),
    byId('DELETE', '', 'webhooks:write'),
    byId('POST', '/signing-secret/rotate', 'webhooks:write'),
    byId('GET', '/events', 'webhooks:read'),
    event('GET', '', 'webhooks:read'),
    event('GET', '/attempts', 'webhooks:read'),
    event('POST', '/replay', 'webhooks:write'),
  ];
}

/** /v1/suppressions: an unknown address answers 404 to a key that may, 403 to one that may not. */
function suppressionEndpoints(): Endpoint[] {
  const byAddress = (method: string, permission: string): Endpoint => ({
    method,
    path: '/v1/suppressions/{id}',
    permission,
    request: () => ({ path: `/v1/suppressions/${randomUUID()}@example.net` }),
  });
  return [
    {
      method: 'POST',
      path: '/v1/suppressions',
      permission: 'suppressions:write',
      request: () => ({ body: { email: `${randomUUID()}@example.net` } }),
    },
    {
      method: 'GET',
      path: '/v1/suppressions',
      permission: 'suppressions:read',
      request: () => ({}),
    },
    byAddress('GET', 'suppressions:read'),
    byAddress('DELETE', 'suppressions:write'),
  ];
}
