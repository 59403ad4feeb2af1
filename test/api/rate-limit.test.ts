import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestPostgres } from '../support/postgres.js';
import { type ApiServer, createKey, startApiServer, startMigratedPostgres } from './api-harness.js';

describe('rate limiting per API key, shared by every instance on one database', () => {
  let postgres: TestPostgres;
  let first: ApiServer;
  let second: ApiServer;

  before(async () => {
    postgres = await startMigratedPostgres();
    // A long window, so the whole test runs inside one window.
    const env = { RATE_LIMIT_REQUESTS: '10', RATE_LIMIT_WINDOW: '3600' };
    first = await startApiServer(postgres, env);
    second = await startApiServer(postgres, env);
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await postgres?.destroy();
  });

  test('two instances share one budget; the 11th request gets 429 with Retry-After', async () => {
    const key = await createKey(first, ['logs:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const server = i % 2 === 0 ? first : second;
      const response = await server.call('GET', '/v1/emails', { key: key.token });
      statuses.push(response.status);
      assert.equal(response.headers.get('ratelimit-limit'), '10');
      assert.equal(response.headers.get('ratelimit-remaining'), String(9 - i));
    }
    assert.deepEqual(statuses, Array(10).fill(200));
    for (const server of [first, second]) {
      const refused = await server.call('GET', '/v1/emails', { key: key.token });
      assert.equal(refused.status, 429);
      assert.equal(refused.body.name, 'rate_limit_exceeded');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(
        Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600,
        `Retry-After ${retryAfter}`,
      );
    }
  });

  test('concurrent requests never exceed the limit (the counter is one atomic upsert)', async () => {
    const key = await createKey(first, ['logs:read']);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 === 0 ? first : second).call('GET', '/v1/emails', { key: key.token }),
      ),
    );
    assert.equal(answers.filter((a) => a.status === 200).length, 10);
    assert.equal(answers.filter((a) => a.status === 429).length, 20);
  });

  test('each key has its own budget', async () => {
    const key = await createKey(first, ['logs:read']);
    assert.equal((await second.call('GET', '/v1/emails', { key: key.token })).status, 200);
  });

  test('a new window starts a new budget (RATE_LIMIT_WINDOW=1)', async () => {
    const fast = await startApiServer(postgres, {
      RATE_LIMIT_REQUESTS: '2',
      RATE_LIMIT_WINDOW: '1',
    });
    try {
      const key = await createKey(first, ['logs:read']);
      let refused: { headers: Headers } | undefined;
      // Sequential requests until three land in one window, however slowly each is answered.
      for (let i = 0; i < 50 && !refused; i++) {
        const response = await fast.call('GET', '/v1/emails', { key: key.token });
        if (response.status === 429) refused = response;
      }
      assert.ok(refused, 'the third request within one second should be refused');
      assert.equal(refused.headers.get('retry-after'), '1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await fast.call('GET', '/v1/emails', { key: key.token })).status, 200);
    } finally {
      await fast.close();
    }
  });
});
