import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  announceBody,
  BOOTSTRAP_KEY,
  type CallOptions,
  email,
  useApiTestbed,
} from './api-harness.js';

interface BadRequest {
  name: string;
  method?: string;
  path?: string;
  options: CallOptions;
  /** Announce a body of this many bytes and wait for the answer without uploading it. */
  announce?: number;
  status: number;
  /** The field the message must name (at the start of one of its `field: reason` parts). */
  field: string;
}

const INJECTION = 'Bcc: victim@evil.example';
const send = (
  name: string,
  overrides: Record<string, unknown>,
  field: string,
  status = 422,
): BadRequest => ({
  name,
  options: { body: email(overrides) },
  status,
  field,
});
const without = (field: string): Record<string, unknown> => {
  const body = email();
  delete body[field];
  return body;
};

const CORPUS: BadRequest[] = [
  {
    name: 'malformed JSON',
    options: { rawBody: '{"from": "a@example.com",' },
    status: 400,
    field: 'body',
  },
  {
    name: 'JSON that is not an object',
    options: { rawBody: '["a@example.com"]' },
    status: 422,
    field: 'body',
  },
  { name: 'no body at all', options: {}, status: 422, field: 'body' },
  {
    name: 'empty JSON body',
    options: { rawBody: '', headers: { 'content-type': 'application/json' } },
    status: 422,
    field: 'body',
  },
  {
    name: 'prototype poisoning',
    options: { rawBody: '{"__proto__": {"admin": true}, "from": "a@example.com"}' },
    status: 400,
    field: 'body',
  },
  {
    name: 'text/plain content type',
    options: { rawBody: JSON.stringify(email()), headers: { 'content-type': 'text/plain' } },
    status: 415,
    field: 'Content-Type',
  },
  {
    name: 'form content type',
    options: {
      rawBody: 'from=a@example.com',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
    status: 415,
    field: 'Content-Type',
  },
  {
    name: 'oversize body (11 MiB)',
    options: {},
    announce: 11 * 1024 * 1024,
    status: 413,
    field: 'body',
  },
  { name: 'missing from', options: { body: without('from') }, status: 422, field: 'from' },
  { name: 'missing to', options: { body: without('to') }, status: 422, field: 'to' },
  { name: 'missing subject', options: { body: without('subject') }, status: 422, field: 'subject' },
  {
    name: 'no html or text',
    options: { body: email({ text: undefined }) },
    status: 422,
    field: 'html',
  },
  send('to is a number', { to: 42 }, 'to'),
  send('subject is a number', { subject: 5 }, 'subject'),
  send('html is an object', { html: {} }, 'html'),
  send('attachments is a string', { attachments: 'file.pdf' }, 'attachments'),
  send('tag name is a number', { tags: [{ name: 1, value: 'x' }] }, 'tags[0].name'),
  send('headers is a list', { headers: ['X-A: b'] }, 'headers'),
  send(
    'template_data is a string',
    { template_id: 'welcome', template_data: 'x' },
    'template_data',
  ),
  send('invalid from address', { from: 'not-an-email' }, 'from'),
  send('invalid second recipient', { to: ['ok@example.com', 'bad@'] }, 'to[1]'),
  send('cc without a dotted domain', { cc: 'a@localhost' }, 'cc'),
  send('bcc with a bad domain label', { bcc: ['x@-bad.example'] }, 'bcc[0]'),
  send('reply_to not an address', { reply_to: 'someone' }, 'reply_to'),
  send('two addresses in one string', { to: 'a@example.com, b@example.com' }, 'to'),
  send('CR/LF in the subject', { subject: `Hi\r\n${INJECTION}` }, 'subject'),
  send('LF in the subject', { subject: `Hi\n${INJECTION}` }, 'subject'),
  send('NUL in the subject', { subject: 'Hi\u0000there' }, 'subject'),
  send('CR/LF in from', { from: `a@example.com\r\n${INJECTION}` }, 'from'),
  send('LF in a recipient', { to: [`rcpt@example.com\n${INJECTION}`] }, 'to[0]'),
  send('CR/LF in a display name', { from: `Evil\r\n${INJECTION} <a@example.com>` }, 'from'),
  send(
    'CR/LF in a cc display name',
    { cc: [`"Eve\r\nBcc: x@y.example" <eve@example.com>`] },
    'cc[0]',
  ),
  send(
    'CR/LF in a header value',
    { headers: { 'X-Campaign': `a\r\n${INJECTION}` } },
    'headers.X-Campaign',
  ),
  send('CR/LF in a header name', { headers: { 'X-Bad\r\nBcc': 'victim@evil.example' } }, 'headers'),
  send('a Bcc header', { headers: { Bcc: 'victim@evil.example' } }, 'headers'),
  send(
    'CR/LF in an attachment filename',
    { attachments: [{ filename: 'a\r\n.txt', content: 'aGk=' }] },
    'attachments[0].filename',
  ),
  send(
    'attachment content not base64',
    { attachments: [{ filename: 'a.txt', content: 'not base64!' }] },
    'attachments[0].content',
  ),
  send(
    'attachment by URL (not supported)',
    { attachments: [{ filename: 'a.txt', path: 'http://169.254.169.254/' }] },
    'attachments[0].path',
  ),
  send('unknown field', { send_at: 'in 1 min' }, 'send_at'),
  send('subject too long', { subject: 's'.repeat(999) }, 'subject'),
  send('51 recipients', { to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`) }, 'to'),
  send(
    '60 recipients across to, cc and bcc',
    {
      to: Array.from({ length: 20 }, (_, i) => `t${i}@example.com`),
      cc: Array.from({ length: 20 }, (_, i) => `c${i}@example.com`),
      bcc: Array.from({ length: 20 }, (_, i) => `b${i}@example.com`),
    },
    'to',
  ),
  send('unknown template', { template_id: 'no-such-template' }, 'template_id'),
  send(
    'unknown template by id',
    { template_id: '00000000-0000-4000-8000-000000000000' },
    'template_id',
  ),
  {
    name: 'Idempotency-Key too long',
    options: { body: email(), headers: { 'idempotency-key': 'k'.repeat(300) } },
    status: 400,
    field: 'Idempotency-Key',
  },
  send('scheduled_at not a time', { scheduled_at: 'next blue moon' }, 'scheduled_at'),
  send('scheduled_at without an offset', { scheduled_at: '2030-01-01T09:00:00' }, 'scheduled_at'),
  send('scheduled_at in the past', { scheduled_at: '2020-01-01T00:00:00Z' }, 'scheduled_at'),
  send('scheduled_at beyond the bound', { scheduled_at: 'in 400 days' }, 'scheduled_at'),
  send(
    'content_id with spaces',
    { attachments: [{ filename: 'a.png', content: 'aGk=', content_id: 'a b' }] },
    'attachments[0].content_id',
  ),
  {
    name: 'batch not an array',
    path: '/v1/emails/batch',
    options: { body: email() },
    status: 422,
    field: 'body',
  },
  {
    name: 'batch of 101',
    path: '/v1/emails/batch',
    options: { body: Array.from({ length: 101 }, () => email()) },
    status: 422,
    field: 'body',
  },
  {
    name: 'batch with an invalid email (strict)',
    path: '/v1/emails/batch',
    options: { body: [email(), email({ to: 'nobody' })] },
    status: 422,
    field: '[1] to',
  },
  {
    name: 'unknown x-batch-validation',
    path: '/v1/emails/batch',
    options: { body: [email()], headers: { 'x-batch-validation': 'lenient' } },
    status: 422,
    field: 'x-batch-validation',
  },
  {
    name: 'reschedule with nonsense',
    method: 'PATCH',
    path: '/v1/emails/00000000-0000-4000-8000-000000000000',
    options: { body: { scheduled_at: 'someday' } },
    status: 422,
    field: 'scheduled_at',
  },
  {
    name: 'cancel an email id not a UUID',
    path: '/v1/emails/not-a-uuid/cancel',
    options: {},
    status: 422,
    field: 'id',
  },
  {
    name: 'email id not a UUID',
    method: 'GET',
    path: '/v1/emails/not-a-uuid',
    options: {},
    status: 422,
    field: 'id',
  },
  {
    name: 'limit above 100',
    method: 'GET',
    path: '/v1/emails?limit=101',
    options: {},
    status: 422,
    field: 'limit',
  },
  {
    name: 'page not a number',
    method: 'GET',
    path: '/v1/emails?page=abc',
    options: {},
    status: 422,
    field: 'page',
  },
  {
    name: 'unknown status filter',
    method: 'GET',
    path: '/v1/emails?status=lost',
    options: {},
    status: 422,
    field: 'status',
  },
  {
    name: 'logs without email_id',
    method: 'GET',
    path: '/v1/logs',
    options: {},
    status: 422,
    field: 'email_id',
  },
  {
    name: 'audit since not a date',
    method: 'GET',
    path: '/v1/audit?since=yesterday',
    options: {},
    status: 422,
    field: 'since',
  },
  {
    name: 'template with a Handlebars syntax error',
    path: '/v1/templates',
    options: { body: { name: 'broken', subject: 'Hi', html: '{{#if}}x' } },
    status: 422,
    field: 'html',
  },
  {
    name: 'template with an unknown helper',
    path: '/v1/templates',
    options: { body: { name: 'helper', subject: 'Hi', text: '{{shout name}}' } },
    status: 422,
    field: 'text',
  },
  {
    name: 'template subject with a line break',
    path: '/v1/templates',
    options: { body: { name: 'crlf', subject: `Hi\r\n${INJECTION}`, text: 'x' } },
    status: 422,
    field: 'subject',
  },
  {
    name: 'api key with an unknown permission',
    path: '/v1/api-keys',
    options: { body: { name: 'k', permissions: ['root'] } },
    status: 422,
    field: 'permissions[0]',
  },
  {
    name: 'api key with an empty name',
    path: '/v1/api-keys',
    options: { body: { name: '' } },
    status: 422,
    field: 'name',
  },
  {
    name: 'tenant with an empty name',
    path: '/v1/tenants',
    options: { body: { name: ' ' } },
    status: 422,
    field: 'name',
  },
  {
    name: 'tenant with a negative daily quota',
    path: '/v1/tenants',
    options: { body: { name: 'neg', limits: { daily_emails: -1 } } },
    status: 422,
    field: 'limits.daily_emails',
  },
  {
    name: 'tenant with a fractional request limit',
    path: '/v1/tenants',
    options: { body: { name: 'frac', limits: { requests_per_window: 1.5 } } },
    status: 422,
    field: 'limits.requests_per_window',
  },
  {
    name: 'tenant with an unknown limit',
    path: '/v1/tenants',
    options: { body: { name: 'unknown', limits: { monthly_emails: 5 } } },
    status: 422,
    field: 'limits',
  },
  {
    name: 'tenant update with a window of zero seconds',
    method: 'PATCH',
    path: '/v1/tenants/00000000-0000-4000-8000-000000000000',
    options: { body: { limits: { window_seconds: 0 } } },
    status: 422,
    field: 'limits.window_seconds',
  },
  {
    name: 'tenant update with disabled as a string',
    method: 'PATCH',
    path: '/v1/tenants/00000000-0000-4000-8000-000000000000',
    options: { body: { disabled: 'yes' } },
    status: 422,
    field: 'disabled',
  },
  {
    name: 'tenant update of a tenant id that is no UUID',
    method: 'PATCH',
    path: '/v1/tenants/42',
    options: { body: { disabled: true } },
    status: 422,
    field: 'id',
  },
  {
    name: 'unknown endpoint',
    method: 'GET',
    path: '/v1/nothing',
    options: {},
    status: 404,
    field: 'GET /v1/nothing',
  },
];

describe('bad-request corpus: every refusal is a 4xx naming the field, never a 5xx', () => {
  const api = useApiTestbed();

  for (const bad of CORPUS) {
    test(bad.name, async () => {
      const response = bad.announce
        ? await announceBody(api.server.url, bad.path ?? '/v1/emails', BOOTSTRAP_KEY, bad.announce)
        : await api.server.call(bad.method ?? 'POST', bad.path ?? '/v1/emails', bad.options);
      const where = `${response.status} ${response.text.slice(0, 300)}`;
      assert.equal(response.status, bad.status, where);
      assert.deepEqual(Object.keys(response.body).sort(), ['message', 'name', 'statusCode'], where);
      assert.equal(response.body.statusCode, bad.status);
      const parts = String(response.body.message).split('; ');
      assert.ok(
        parts.some((part) => part.startsWith(`${bad.field}: `) || part.startsWith(`${bad.field}.`)),
        `message should name ${bad.field}: ${response.body.message}`,
      );
    });
  }

  test('nothing was queued and no injected recipient is stored anywhere', async () => {
    const client = await api.postgres.client('selfmx');
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM emails');
      assert.equal(rows[0].n, 0);
    } finally {
      await client.end();
    }
  });

  test('the same server still accepts a good request', async () => {
    const response = await api.server.call('POST', '/v1/emails', { body: email() });
    assert.equal(response.status, 200, response.text);
  });
});
