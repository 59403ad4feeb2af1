import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ApiResponse,
  BOOTSTRAP_KEY,
  type CallOptions,
  email,
  useApiTestbed,
} from './api-harness.js';
import { trickle } from './slow-client.js';

/**
 * The HTTP side of the hostile-input corpus: forged and malformed client addresses, bad and
 * overlong keys, overlong headers, bad-key floods and slow clients. Every case is answered with
 * a 4xx that names the field at fault, or served normally; never a 5xx or a hang.
 */
interface HostileCase {
  name: string;
  method?: string;
  path?: string;
  options: CallOptions;
  /** The answer expected: a status, and for a 4xx the field its message names. */
  expect: { status: number; field?: RegExp };
}

const SEND = { method: 'POST', path: '/v1/emails' };
const forwardedFrom = (address: string, headers: Record<string, string> = {}) => ({
  'x-forwarded-for': address,
  ...headers,
});

/** Each case comes from its own forwarded address, so the failure throttle counts it alone. */
let nextAddress = 1;
const client = () => `198.18.0.${nextAddress++}`;

const CASES: HostileCase[] = [
  ...[
    'not-an-ip',
    '203.0.113.300',
    'fe80::1%eth0',
    '[::1]:8080',
    '::ffff:192.0.2.1',
    "1.2.3.4'); DROP TABLE audit_logs; --",
    Array.from({ length: 1_000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', '),
    'x'.repeat(8_000),
  ].map(
    (forwarded): HostileCase => ({
      name: `send with X-Forwarded-For ${JSON.stringify(forwarded.slice(0, 40))}`,
      ...SEND,
      options: { body: email(), headers: forwardedFrom(forwarded) },
      expect: { status: 200 },
    }),
  ),
  {
    name: 'send with a Forwarded header (not believed)',
    ...SEND,
    options: { body: email(), headers: { forwarded: 'for=203.0.113.1;proto=https' } },
    expect: { status: 200 },
  },
  ...(
    [
      ['no Authorization', null, undefined],
      ['Basic credentials', undefined, 'Basic dXNlcjpwYXNz'],
      ['Bearer with two tokens', undefined, 'Bearer smx_a smx_b'],
      ['Bearer and nothing', undefined, 'Bearer '],
      ['an overlong Bearer token (600 characters)', undefined, `Bearer ${'a'.repeat(600)}`],
      ['an overlong Authorization header (8000 characters)', undefined, 'x'.repeat(8_000)],
      ['latin-1 bytes in the key', undefined, 'Bearer smx_\u00ff\u00fe'],
      ['an unknown key of the right shape', `smx_${'A'.repeat(43)}`, undefined],
      ['the bootstrap key with a suffix', `${BOOTSTRAP_KEY}x`, undefined],
    ] as const
  ).map(
    ([name, key, authorization]): HostileCase => ({
      name: `GET /v1/emails with ${name}`,
      options: {
        key: authorization === undefined ? key : null,
        headers: forwardedFrom(client(), authorization ? { authorization } : {}),
      },
      expect: { status: 401, field: /^Authorization: / },
    }),
  ),
  {
    name: 'Idempotency-Key one character over the limit',
    ...SEND,
    options: { body: email(), headers: { 'idempotency-key': 'k'.repeat(257) } },
    expect: { status: 400, field: /^Idempotency-Key: / },
  },
  {
    name: 'Idempotency-Key of 8000 characters',
    ...SEND,
    options: { body: email(), headers: { 'idempotency-key': 'k'.repeat(8_000) } },
    expect: { status: 400, field: /^Idempotency-Key: / },
  },
  {
    name: 'Idempotency-Key with latin-1 bytes',
    ...SEND,
    options: { body: email(), headers: { 'idempotency-key': 'cl\u00e9' } },
    expect: { status: 400, field: /^Idempotency-Key: / },
  },
  {
    name: 'Idempotency-Key of spaces only',
    ...SEND,
    options: { body: email(), headers: { 'idempotency-key': '   ' } },
    expect: { status: 400, field: /^Idempotency-Key: / },
  },
  {
    name: 'x-request-id of 10000 characters (replaced)',
    options: { headers: { 'x-request-id': 'r'.repeat(10_000) } },
    expect: { status: 200 },
  },
  {
    name: 'x-request-id with markup (replaced)',
    options: { headers: { 'x-request-id': '<script>alert(1)</script>' } },
    expect: { status: 200 },
  },
];

const SLOW_GAP_MS = 250;

describe('hostile HTTP inputs: a 4xx naming the field, or normal service', () => {
  const api = useApiTestbed({
    RATE_LIMIT_REQUESTS: '1000000',
    TRUST_PROXY: '127.0.0.1/32',
    AUTH_FAILURE_LIMIT: '10',
    HTTP_REQUEST_TIMEOUT: '1',
  });

  for (const hostile of CASES) {
    test(hostile.name, async () => {
      const response: ApiResponse = await api.server.call(
        hostile.method ?? 'GET',
        hostile.path ?? '/v1/emails',
        hostile.options,
      );
      assert.equal(response.status, hostile.expect.status, response.text);
      if (hostile.expect.field) assert.match(response.body.message, hostile.expect.field);
      const requestId = response.headers.get('x-request-id') ?? '';
      assert.ok(requestId.length <= 128 && /^[\w.:-]+$/.test(requestId), requestId);
    });
  }

  test('an Authorization header past the 16 KB header limit gets 431 from Node', async () => {
    const response = await api.server.call('GET', '/v1/emails', {
      key: null,
      headers: { authorization: `Bearer ${'a'.repeat(20_000)}` },
    });
    assert.equal(response.status, 431);
  });

  test('a bad-key flood from one address gets 429; other addresses and known keys do not', async () => {
    const flooder = '198.51.100.50';
    assert.equal(
      (await api.server.call('GET', '/v1/emails', { headers: forwardedFrom(flooder) })).status,
      200,
    );
    const flood = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api.server.call('GET', '/v1/emails', {
          key: `smx_flood_${i}`,
          headers: forwardedFrom(flooder),
        }),
      ),
    );
    assert.ok(flood.every((response) => [401, 429].includes(response.status)));
    const throttled = flood.filter((response) => response.status === 429);
    assert.ok(throttled.length > 0);
    assert.match(throttled[0]?.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.match(throttled[0]?.body.message, /^Authorization: too many failed authentications/);
    const neighbour = await api.server.call('GET', '/v1/emails', {
      key: 'smx_neighbour',
      headers: forwardedFrom('198.51.100.51'),
    });
    assert.equal(neighbour.status, 401);
    const known = await api.server.call('GET', '/v1/emails', { headers: forwardedFrom(flooder) });
    assert.equal(known.status, 200, known.text);
    const missing = await api.server.call('GET', '/v1/emails', {
      key: null,
      headers: forwardedFrom(flooder),
    });
    assert.equal(missing.status, 429);
    const health = await api.server.call('GET', '/health', { headers: forwardedFrom(flooder) });
    assert.equal(health.status, 200, 'only the API routes are throttled');
  });

  const slowCases: { name: string; head: string; trickled: string }[] = [
    {
      name: 'a body trickled one byte at a time',
      head: `POST /v1/emails HTTP/1.1\r\nHost: selfmx\r\nAuthorization: Bearer ${BOOTSTRAP_KEY}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n`,
      trickled: '{"from":"a@example.com","subject":"x"}  ',
    },
    {
      name: 'headers trickled one byte at a time',
      head: 'GET /v1/emails HTTP/1.1\r\n',
      trickled: `Host: selfmx\r\nAuthorization: Bearer ${BOOTSTRAP_KEY}\r\n\r\n`,
    },
    {
      name: 'a request line trickled one byte at a time',
      head: '',
      trickled: 'GET /v1/emails HTTP/1.1\r\nHost: selfmx\r\n\r\n',
    },
  ];
  for (const slow of slowCases) {
    test(`slow client: ${slow.name} gets 408 or a close before it completes`, async () => {
      const outcome = await trickle(api.server.url, slow.head, slow.trickled, SLOW_GAP_MS);
      assert.ok(outcome.cutShort, `the request went through: ${outcome.answer}`);
      assert.ok(outcome.answer === '' || outcome.answer.startsWith('HTTP/1.1 408'), outcome.answer);
    });
  }

  test('slow client: a connection that sends nothing is closed', async () => {
    const outcome = await trickle(api.server.url, '', '', SLOW_GAP_MS, 10_000);
    assert.ok(outcome.serverEnded, 'the server kept the silent connection open');
    assert.ok(outcome.answer === '' || outcome.answer.startsWith('HTTP/1.1 408'), outcome.answer);
  });
});
