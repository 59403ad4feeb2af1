import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EMAIL_LIMITS } from '../../app/src/emails/limits.js';
import { TEMPLATE_RENDER_LIMITS } from '../../app/src/templates/render-limits.js';
import { type AppProcess, startApp } from '../support/app-process.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type ApiResponse, announceBody, type CallOptions, call, email } from './api-harness.js';

const API_KEY = 'hostile-inputs-bootstrap-key-5d1e8b';

/** 2,000 items: a triple-nested loop over them is 8·10⁹ iterations. */
const ITEMS = Array.from({ length: 2000 }, () => 0);
const BIG = 'x'.repeat(100 * 1024);

/** Templates the corpus sends with, by name. */
const TEMPLATES: Record<string, { subject: string; html?: string; text?: string }> = {
  welcome: { subject: 'Hi {{name}}', html: '<p>Hello {{name}}</p>', text: 'Hello {{name}}' },
  'cubic-silent': {
    subject: 'cubic',
    html: '{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}',
  },
  'cubic-loud': {
    subject: 'cubic',
    text: '{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}',
  },
  amplify: { subject: 'amplify', html: '{{#each a}}{{@root.big}}{{/each}}' },
  'amplify-subject': { subject: '{{#each a}}{{@root.big}}{{/each}}', text: 'body' },
  'amplify-flat': { subject: 'flat', text: '{{big}}'.repeat(100) },
  recursive: { subject: 'recursive', html: '{{#*inline "p"}}{{> p}}{{/inline}}{{> p}}' },
  prototype: { subject: 'proto', text: '{{constructor}}{{__proto__}}' },
};

/** `depth` objects, one inside the other, as JSON text. */
const nestedJson = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** What a case must get: a status (4xx with the field named in the message) or normal service. */
type Expect = { status: number; field: string; message?: RegExp } | { served: true };

interface Case {
  name: string;
  method?: string;
  path?: string;
  /** Sent as JSON; use rawBody for text JSON.stringify cannot produce. */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  expect: Expect;
}

const sendWith = (template: string, data: unknown) =>
  email({ subject: undefined, text: undefined, template_id: template, template_data: data });

const CASES: Case[] = [
  // Templates: NUL, lone surrogates, the log helper, overlong fields.
  ...(['subject', 'html', 'text'] as const).map((field) => ({
    name: `template ${field} with a NUL`,
    path: '/v1/templates',
    body: { name: `nul-${field}`, subject: 's', text: 't', [field]: 'a\u0000b' },
    expect: { status: 422, field, message: /NUL/ },
  })),
  {
    name: 'template name with a NUL',
    path: '/v1/templates',
    body: { name: 'a\u0000b', subject: 's', text: 't' },
    expect: { status: 422, field: 'name' },
  },
  {
    name: 'template html with a lone high surrogate',
    path: '/v1/templates',
    body: { name: 'lone-high', subject: 's', html: 'a\ud800b' },
    expect: { status: 422, field: 'html', message: /surrogate/ },
  },
  {
    name: 'template text with a lone low surrogate',
    path: '/v1/templates',
    body: { name: 'lone-low', subject: 's', text: '\udc00' },
    expect: { status: 422, field: 'text', message: /surrogate/ },
  },
  {
    name: 'template with a surrogate pair (an emoji) is served',
    path: '/v1/templates',
    body: { name: 'emoji', subject: 'Hi \ud83d\ude00', text: '{{name}} \ud83d\udc4b' },
    expect: { served: true },
  },
  {
    name: 'template using the log helper',
    path: '/v1/templates',
    body: { name: 'log', subject: 's', html: '{{log "forged"}}' },
    expect: { status: 422, field: 'html', message: /log/ },
  },
  {
    name: 'template html one character over the body limit',
    path: '/v1/templates',
    body: { name: 'long-html', subject: 's', html: 'x'.repeat(EMAIL_LIMITS.bodyChars + 1) },
    expect: { status: 422, field: 'html' },
  },
  {
    name: 'template subject one character over the limit',
    path: '/v1/templates',
    body: { name: 'long-subject', subject: 'x'.repeat(EMAIL_LIMITS.subjectChars + 1), text: 't' },
    expect: { status: 422, field: 'subject' },
  },
  {
    name: 'template name of 201 characters',
    path: '/v1/templates',
    body: { name: 'n'.repeat(201), subject: 's', text: 't' },
    expect: { status: 422, field: 'name' },
  },
  // Sends: NUL, surrogates, overlong fields.
  ...(['subject', 'html', 'text', 'from'] as const).map((field) => ({
    name: `send with a NUL in ${field}`,
    path: '/v1/emails',
    body: email({ [field]: field === 'from' ? 'a\u0000@example.com' : 'a\u0000b' }),
    expect: { status: 422, field },
  })),
  {
    name: 'send with a lone surrogate in html',
    path: '/v1/emails',
    body: email({ html: '<p>\ud800</p>' }),
    expect: { status: 422, field: 'html', message: /surrogate/ },
  },
  {
    name: 'send with a NUL in a header value',
    path: '/v1/emails',
    body: email({ headers: { 'X-Campaign': 'a\u0000b' } }),
    expect: { status: 422, field: 'headers.X-Campaign' },
  },
  {
    name: 'send with text one character over the body limit',
    path: '/v1/emails',
    body: email({ text: 'x'.repeat(EMAIL_LIMITS.bodyChars + 1) }),
    expect: { status: 422, field: 'text' },
  },
  {
    name: 'send to 51 recipients',
    path: '/v1/emails',
    body: email({ to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`) }),
    expect: { status: 422, field: 'to' },
  },
  {
    name: 'send with an overlong tag',
    path: '/v1/emails',
    body: email({ tags: [{ name: 't'.repeat(257), value: 'v' }] }),
    expect: { status: 422, field: 'tags[0].name' },
  },
  {
    name: 'send with an overlong Idempotency-Key',
    path: '/v1/emails',
    body: email(),
    headers: { 'idempotency-key': 'k'.repeat(EMAIL_LIMITS.idempotencyKeyChars + 1) },
    expect: { status: 400, field: 'Idempotency-Key' },
  },
  {
    name: 'malformed JSON',
    path: '/v1/emails',
    rawBody: '{"from": ',
    expect: { status: 400, field: '' },
  },
  // template_data: deep nesting, NUL, surrogates, size.
  {
    name: 'template_data nested 10,000 deep',
    path: '/v1/emails',
    rawBody: JSON.stringify(sendWith('welcome', {})).replace(
      '"template_data":{}',
      `"template_data":${nestedJson(10_000)}`,
    ),
    expect: { status: 422, field: 'template_data', message: /nested/ },
  },
  {
    name: 'template.variables nested 10,000 deep',
    path: '/v1/emails',
    rawBody: JSON.stringify(
      email({ subject: undefined, text: undefined, template: { id: 'welcome', variables: {} } }),
    ).replace('"variables":{}', `"variables":${nestedJson(10_000)}`),
    expect: { status: 422, field: 'template', message: /nested/ },
  },
  {
    name: 'an unknown field nested 100,000 deep',
    path: '/v1/emails',
    rawBody: JSON.stringify(email({ deep: 0 })).replace(
      '"deep":0',
      `"deep":${nestedJson(100_000)}`,
    ),
    expect: { status: 422, field: 'deep' },
  },
  {
    name: 'template_data with a NUL in a value',
    path: '/v1/emails',
    body: sendWith('welcome', { name: 'a\u0000b' }),
    expect: { status: 422, field: 'template_data.name', message: /NUL/ },
  },
  {
    name: 'template_data with a lone surrogate in a key',
    path: '/v1/emails',
    body: sendWith('welcome', { '\udfff': 'x' }),
    expect: { status: 422, field: 'template_data', message: /surrogate/ },
  },
  {
    name: 'template_data over its size limit',
    path: '/v1/emails',
    body: sendWith('welcome', { name: 'x'.repeat(EMAIL_LIMITS.templateDataBytes) }),
    expect: { status: 422, field: 'template_data' },
  },
  // Template bombs: each refused by name, template and part.
  {
    name: 'the cubic {{#each}} bomb over 2,000 items (no output): the deadline',
    path: '/v1/emails',
    body: sendWith('cubic-silent', { a: ITEMS }),
    expect: {
      status: 422,
      field: 'template_data',
      message: /template "cubic-silent" html did not render within 1000 ms/,
    },
  },
  {
    name: 'the cubic {{#each}} bomb over 2,000 items (with output): the size cap or the deadline',
    path: '/v1/emails',
    body: sendWith('cubic-loud', { a: ITEMS }),
    expect: {
      status: 422,
      field: 'template_data',
      message: /"cubic-loud" text (renders to more|did not render within)/,
    },
  },
  {
    name: 'the {{@root.big}} amplification bomb (100 KB × 2,000)',
    path: '/v1/emails',
    body: sendWith('amplify', { a: ITEMS, big: BIG }),
    expect: { status: 422, field: 'template_data', message: /"amplify" html renders to more/ },
  },
  {
    name: 'the amplification bomb in a subject',
    path: '/v1/emails',
    body: sendWith('amplify-subject', { a: ITEMS, big: BIG }),
    expect: { status: 422, field: 'template_data', message: /"amplify-subject" subject/ },
  },
  {
    name: 'amplification without a loop (100 × 100 KB) past the body limit',
    path: '/v1/emails',
    body: sendWith('amplify-flat', { big: 'y'.repeat(60 * 1024) }),
    expect: { status: 422, field: 'template_data', message: /"amplify-flat" text renders to more/ },
  },
  {
    name: 'a partial that calls itself',
    path: '/v1/emails',
    body: sendWith('recursive', {}),
    expect: { status: 422, field: 'template_data', message: /"recursive" html failed to render/ },
  },
  {
    name: 'a template reading the prototype is served (empty), logging nothing',
    path: '/v1/emails',
    body: sendWith('prototype', {}),
    expect: { served: true },
  },
  // Query strings and paths.
  {
    name: 'email list filtered by a sender with a NUL',
    method: 'GET',
    path: '/v1/emails?from=a%00b',
    expect: { status: 422, field: 'from', message: /NUL/ },
  },
  {
    name: 'email list filtered by an invalid UTF-8 sequence',
    method: 'GET',
    path: '/v1/emails?to=%ED%A0%80',
    expect: { served: true },
  },
  {
    name: 'a template id with a NUL',
    method: 'GET',
    path: '/v1/templates/a%00b',
    expect: { status: 422, field: 'id' },
  },
];

describe('hostile inputs: a 4xx naming the field, or normal service; never a 5xx or a hang', () => {
  let postgres: TestPostgres;
  let app: AppProcess;
  const api = (method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> =>
    call(app.url, method, path, { key: API_KEY, ...options });

  before(async () => {
    postgres = await startPostgres({ database: 'selfmx' });
    app = await startApp({
      env: {
        DATABASE_URL: postgres.url('sslmode=disable'),
        API_KEY,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: '1',
        SMTP_TLS: 'false',
        QUEUE_WORKERS: '0',
        RATE_LIMIT_REQUESTS: '100000',
      },
    });
    for (const [name, fields] of Object.entries(TEMPLATES)) {
      const created = await api('POST', '/v1/templates', { body: { name, ...fields } });
      assert.equal(created.status, 201, `template ${name}: ${created.text}`);
    }
  });
  after(async () => {
    await app?.stop('SIGKILL');
    await postgres?.destroy();
  });

  for (const hostile of CASES) {
    test(hostile.name, async () => {
      const response = await api(hostile.method ?? 'POST', hostile.path ?? '/v1/emails', {
        body: hostile.body,
        rawBody: hostile.rawBody,
        headers: hostile.headers,
      });
      const { expect } = hostile;
      if ('served' in expect) {
        assert.ok(response.status >= 200 && response.status < 300, response.text.slice(0, 500));
        return;
      }
      assert.equal(response.status, expect.status, response.text.slice(0, 500));
      const message: string = response.body?.message ?? '';
      assert.ok(message.startsWith(expect.field), `"${message}" does not name ${expect.field}`);
      if (expect.message) assert.match(message, expect.message);
    });
  }

  test('a body over the size limit', async () => {
    const answer = await announceBody(app.url, '/v1/emails', API_KEY, EMAIL_LIMITS.bodyBytes + 1);
    assert.equal(answer.status, 413, answer.text);
    assert.match(answer.text, /payload_too_large/);
  });

  test('while the cubic bomb renders, /health and another template send are served', async () => {
    const bomb = api('POST', '/v1/emails', { body: sendWith('cubic-silent', { a: ITEMS }) }).then(
      (response) => ({ response, answeredAt: performance.now() }),
    );
    let bombAnswered = false;
    void bomb.then(() => {
      bombAnswered = true;
    });
    // /health every 50 ms, without waiting for answers, so that requests arrive all through the
    // render however slowly this machine answers each one.
    const healthChecks: Promise<{ issuedAt: number; answeredAt: number; status: number }>[] = [];
    let send: Promise<ApiResponse> | undefined;
    while (!bombAnswered) {
      const issuedAt = performance.now();
      healthChecks.push(
        api('GET', '/health', { key: null }).then((health) => ({
          issuedAt,
          answeredAt: performance.now(),
          status: health.status,
        })),
      );
      send ??= api('POST', '/v1/emails', { body: sendWith('welcome', { name: 'Ana' }) });
      await Promise.race([bomb, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    const { response, answeredAt: bombAnsweredAt } = await bomb;
    assert.equal(response.status, 422, response.text);
    assert.match(response.text, /did not render within/);
    // The bomb was answered at its render deadline, so its render had begun by this instant: a
    // /health sent after it and answered before the bomb was served while the render ran, which
    // a render on the event loop would not allow. Ordering, not speed: load only widens the span.
    const renderBegunBy = bombAnsweredAt - TEMPLATE_RENDER_LIMITS.deadlineMs;
    const checks = await Promise.all(healthChecks);
    for (const check of checks) assert.equal(check.status, 200);
    const servedDuringRender = checks.filter(
      (check) => check.issuedAt > renderBegunBy && check.answeredAt < bombAnsweredAt,
    );
    assert.ok(
      servedDuringRender.length > 0,
      `no /health sent during the render was answered before the bomb (${checks.length} sent)`,
    );
    const sent = await send;
    assert.equal(sent?.status, 200, sent?.text);
  });

  test('nothing a template did reached the log, and the service still accepts email', async () => {
    const output = app.stdout() + app.stderr();
    assert.ok(!output.includes('forged'), 'the log helper wrote to the log');
    assert.ok(!output.includes('Access has been denied'), 'Handlebars wrote to the log');
    const sent = await api('POST', '/v1/emails', { body: sendWith('welcome', { name: 'Bo' }) });
    assert.equal(sent.status, 200, sent.text);
    const health = await api('GET', '/health', { key: null });
    assert.equal(health.status, 200);
  });
});
