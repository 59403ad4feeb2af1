import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, mock, test } from 'node:test';
import type { TestPostgres } from '../support/postgres.js';
import {
  type ApiServer,
  eventually,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

let postgres: TestPostgres;
let server: ApiServer;
before(async () => {
  postgres = await startMigratedPostgres();
  server = await startApiServer(postgres, { AUTH_FAILURE_LIMIT: '2' });
});
after(async () => {
  mock.timers.reset();
  await postgres?.destroy();
});

/** A GET with a bad key over its own connection, with the raw status and headers. */
function getWithBadKey(key: string) {
  return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const sent = request(`${server.url}/v1/emails`, {
      headers: { authorization: `Bearer ${key}` },
      agent: false,
    });
    sent.on('response', (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

test('answers held in the tarpit are written when the server closes', async () => {
  assert.equal((await getWithBadKey('smx_bad_1')).status, 401);
  assert.equal((await getWithBadKey('smx_bad_2')).status, 401);
  assert.equal((await getWithBadKey('smx_bad_3')).status, 429);
  // The tarpit's release timer never fires now: only closing can answer what it holds.
  mock.timers.enable({ apis: ['setInterval'] });
  const held = getWithBadKey('smx_bad_4');
  const db = await postgres.client('selfmx');
  try {
    await eventually(async () => {
      const { rows } = await db.query(
        `SELECT 1 FROM audit_logs WHERE action = 'auth.failed' AND target_id = '*'`,
      );
      return rows.length > 0 ? true : undefined;
    });
  } finally {
    await db.end();
  }
  await server.close();
  const answer = await held;
  assert.equal(answer.status, 429);
  assert.match(String(answer.headers['retry-after']), /^\d+$/);
  assert.equal(answer.headers.connection, 'close');
});
