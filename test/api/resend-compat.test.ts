import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ApiResponse, BOOTSTRAP_KEY, useApiTestbed } from './api-harness.js';

/**
 * The HTTP requests Resend's Node SDK (v6) makes, byte for byte in shape: a base URL of
 * `<selfmx>/v1`, `Authorization`, `User-Agent: resend-node:…`, `Content-Type: application/json`
 * on every method (DELETE included, without a body), snake_case bodies with undefined fields
 * dropped, `Idempotency-Key` from the `idempotencyKey` option. The SDK reads `{ data }` from a
 * 2xx and `{ statusCode, name, message }` from an error.
 */
describe('Resend SDK compatibility (the SDK’s requests against SelfMX)', () => {
  const api = useApiTestbed({});

  const sdk = async (
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ) => {
    const response = await fetch(`${api.server.url}/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${BOOTSTRAP_KEY}`,
        'User-Agent': 'resend-node:6.38.0',
        'Content-Type': 'application/json',
        ...extra,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: ApiResponse['body'] = await response.json();
    return { status: response.status, json };
  };

  test('resend.emails.send(...) with attachments, tags, replyTo and idempotencyKey', async () => {
    // What parseEmailToApiOptions makes of { from, to, subject, html, text, replyTo, cc, tags,
    // headers, attachments: [{ filename, content: Buffer, contentType }] }.
    const body = {
      attachments: [
        {
          content: Buffer.from('pdf bytes').toString('base64'),
          filename: 'invoice.pdf',
          content_type: 'application/pdf',
        },
      ],
      cc: ['finance@example.com'],
      from: 'Acme <onboarding@acme.example>',
      headers: { 'X-Entity-Ref-ID': '123' },
      html: '<strong>It works!</strong>',
      reply_to: 'support@acme.example',
      subject: 'Hello World',
      tags: [{ name: 'category', value: 'confirm_email' }],
      text: 'It works!',
      to: ['delivered@example.com'],
    };
    const first = await sdk('POST', '/emails', body, { 'Idempotency-Key': 'welcome-user/123' });
    assert.equal(first.status, 200);
    assert.match(first.json.id, /^[0-9a-f-]{36}$/);
    const retry = await sdk('POST', '/emails', body, { 'Idempotency-Key': 'welcome-user/123' });
    assert.equal(retry.json.id, first.json.id);

    const got = await sdk('GET', `/emails/${first.json.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.object, 'email');
    assert.equal(got.json.last_event, 'queued');
    assert.deepEqual(got.json.to, ['delivered@example.com']);
    assert.deepEqual(got.json.reply_to, ['support@acme.example']);

    const listed = await sdk('GET', '/emails?limit=10');
    assert.equal(listed.json.object, 'list');
    assert.ok(Array.isArray(listed.json.data) && typeof listed.json.has_more === 'boolean');
  });

  test('resend.emails.send({ template: { id, variables } })', async () => {
    await sdk('POST', '/templates', {
      name: 'order-shipped',
      subject: 'Order {{order}} shipped',
      text: 'Tracking: {{tracking}}',
    });
    const sent = await sdk('POST', '/emails', {
      from: 'shop@acme.example',
      to: 'ana@example.com',
      template: { id: 'order-shipped', variables: { order: 'A-1', tracking: 'XYZ' } },
    });
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    const got = await sdk('GET', `/emails/${sent.json.id}`);
    assert.equal(got.json.subject, 'Order A-1 shipped');
    assert.equal(got.json.text, 'Tracking: XYZ');
  });

  test('an SDK error is { statusCode, name, message }', async () => {
    const refused = await sdk('POST', '/emails', {
      from: 'x',
      to: 'y@example.com',
      subject: 's',
      text: 't',
    });
    assert.equal(refused.status, 422);
    assert.deepEqual(Object.keys(refused.json).sort(), ['message', 'name', 'statusCode']);
    assert.equal(refused.json.name, 'validation_error');
  });

  test('resend.apiKeys.create / list / remove', async () => {
    const created = await sdk('POST', '/api-keys', {
      name: 'Production',
      permission: 'sending_access',
    });
    assert.equal(created.status, 201);
    assert.ok(created.json.id && created.json.token);
    const listed = await sdk('GET', '/api-keys');
    assert.ok(listed.json.data.some((key: { id: string }) => key.id === created.json.id));
    const removed = await sdk('DELETE', `/api-keys/${created.json.id}`);
    assert.equal(removed.status, 200);
  });
});
