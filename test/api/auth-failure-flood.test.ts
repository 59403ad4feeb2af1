import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ApiResponse, call, eventually, useApiTestbed } from './api-harness.js';

const FLOOD = 5_000;
const AT_A_TIME = 500;

describe('a flood of bad keys cannot exhaust the pool or the disk', () => {
  const api = useApiTestbed({ RATE_LIMIT_REQUESTS: '1000000', AUTH_FAILURE_LIMIT: '30' });

  test(`${FLOOD} bad-key requests, ${AT_A_TIME} at a time, beside a valid key`, async () => {
    const { rows: before } = await api.db.query<{ id: string }>(
      `SELECT coalesce(max(id), 0)::text AS id FROM audit_logs`,
    );
    const baseline = await api.server.call('GET', '/v1/emails?limit=1');
    assert.equal(baseline.status, 200);

    const flood: ApiResponse[] = [];
    let flooding = true;
    const floodDone = (async () => {
      for (let sent = 0; sent < FLOOD; sent += AT_A_TIME) {
        const wave = Array.from({ length: AT_A_TIME }, (_, i) =>
          call(api.server.url, 'GET', '/v1/emails', { key: `smx_bad_${sent + i}` }),
        );
        flood.push(...(await Promise.all(wave)));
      }
      flooding = false;
    })();
    const valid: ApiResponse[] = [];
    while (flooding) valid.push(await api.server.call('GET', '/v1/emails?limit=1'));
    await floodDone;

    assert.equal(flood.length, FLOOD);
    assert.deepEqual(
      flood.filter((response) => response.status >= 500).map((response) => response.text),
      [],
    );
    const statuses = new Set(flood.map((response) => response.status));
    assert.deepEqual([...statuses].sort(), [401, 429]);
    // Lookups already under way when the limit is reached still answer 401.
    const refused = flood.filter((response) => response.status === 401).length;
    assert.ok(refused >= 30 && refused < 30 + AT_A_TIME, `${refused} answered 401`);
    const throttled = flood.find((response) => response.status === 429);
    assert.match(throttled?.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(throttled?.body.message, /AUTH_FAILURE_LIMIT/);

    assert.ok(valid.length > 0);
    assert.deepEqual(
      valid.filter((response) => response.status !== 200).map((response) => response.text),
      [],
    );

    // Every failure is in the audit log, in a few aggregated rows instead of one row each.
    const recorded = await eventually(async () => {
      const { rows } = await api.db.query<{ rows: number; failures: number }>(
        `SELECT count(*)::int AS rows, coalesce(sum((detail->>'count')::int), 0)::int AS failures
         FROM audit_logs WHERE action = 'auth.failed' AND id > $1`,
        [before[0]?.id],
      );
      return rows[0]?.failures === FLOOD ? rows[0] : undefined;
    });
    assert.ok(recorded.rows <= 50, `${recorded.rows} audit rows for ${FLOOD} failures`);
  });
});
