import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FAILED_AUTHENTICATION_FLUSH_INTERVAL_MS } from '../../app/src/audit/failed-authentication-log.js';
import { hashApiKey } from '../../app/src/auth/api-key-secret.js';
import { FAILED_KEY_MEMORY_SECONDS } from '../../app/src/rate-limit/recently-failed-keys.js';
import {
  type ApiResponse,
  type ApiServer,
  BOOTSTRAP_KEY,
  call,
  eventually,
  useApiTestbed,
} from './api-harness.js';

const FLOOD = 5_000;
const AT_A_TIME = 500;
const LIMIT = 30;

/**
 * Counts the key hashes the server looks up in PostgreSQL (the statement still runs): every
 * hash but the bootstrap key's, presented by the flooders, with when (performance.now()) each
 * lookup was sent.
 */
function countBadKeyLookups(server: ApiServer): { readonly count: number; readonly at: number[] } {
  const pool: { query: (...args: unknown[]) => unknown } = server.pool;
  const query = pool.query.bind(server.pool);
  const bootstrap = hashApiKey(BOOTSTRAP_KEY);
  const counter = { count: 0, at: [] as number[] };
  pool.query = (...args: unknown[]) => {
    const config = args[0] as { name?: string; values?: unknown[] };
    if (config?.name === 'selfmx_find_keys_and_count') {
      const hashes = config.values?.[0] as Buffer[];
      const bad = hashes.filter((hash) => !hash.equals(bootstrap)).length;
      counter.count += bad;
      counter.at.push(...Array<number>(bad).fill(performance.now()));
    }
    return query(...args);
  };
  return counter;
}

describe('a flood of bad keys cannot exhaust the pool or the disk', () => {
  const api = useApiTestbed({
    RATE_LIMIT_REQUESTS: '1000000',
    AUTH_FAILURE_LIMIT: String(LIMIT),
    TRUST_PROXY: '127.0.0.1/32',
  });

  test(`${FLOOD} bad-key requests, ${AT_A_TIME} at a time, beside a valid key`, async () => {
    const { rows: before } = await api.db.query<{ id: string }>(
      `SELECT coalesce(max(id), 0)::text AS id FROM audit_logs`,
    );
    const baseline = await api.server.call('GET', '/v1/emails?limit=1');
    assert.equal(baseline.status, 200);
    const lookups = countBadKeyLookups(api.server);
    const startedMinute = Math.floor(Date.now() / 60_000);
    const floodStartedAt = performance.now();

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
    // The limit is per address and minute: a flood across a minute boundary gets it twice.
    const minutes = Math.floor(Date.now() / 60_000) - startedMinute + 1;

    assert.equal(flood.length, FLOOD);
    assert.deepEqual(
      flood.filter((response) => response.status >= 500).map((response) => response.text),
      [],
    );
    const statuses = new Set(flood.map((response) => response.status));
    assert.deepEqual([...statuses].sort(), [401, 429]);
    // A lookup still under way counts as a failure already: the first wave cannot get past.
    const refused = flood.filter((response) => response.status === 401).length;
    assert.ok(refused >= LIMIT && refused <= LIMIT * minutes, `${refused} answered 401`);
    assert.equal(lookups.count, refused, 'throttled requests are answered without a key lookup');
    const throttled = flood.find((response) => response.status === 429);
    assert.match(throttled?.headers.get('retry-after') ?? '', /^\d+$/);
    assert.match(throttled?.body.message, /AUTH_FAILURE_LIMIT/);
    assert.equal(throttled?.body.name, 'rate_limit_exceeded');

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
    // One row per aggregate (address, minute, reason, route, key) and flush, not one per failure:
    // the log flushes at most once a second, so a flood slowed down by a busy machine may take
    // more rows, never more than its aggregates times the seconds it lasted.
    const flushes =
      Math.floor((performance.now() - floodStartedAt) / FAILED_AUTHENTICATION_FLUSH_INTERVAL_MS) +
      2;
    const { rows: distinct } = await api.db.query<{ aggregates: number }>(
      `SELECT count(DISTINCT concat_ws('|', ip, detail->>'reason', target_id, actor_key_id,
                date_trunc('minute', (detail->>'first_at')::timestamptz)))::int AS aggregates
         FROM audit_logs WHERE action = 'auth.failed' AND id > $1`,
      [before[0]?.id],
    );
    const aggregates = distinct[0]?.aggregates ?? 0;
    assert.ok(
      recorded.rows <= aggregates * flushes,
      `${recorded.rows} audit rows for ${FLOOD} failures (${aggregates} aggregates, ${flushes} flushes)`,
    );
    // Once an address is throttled, its requests are answered before Fastify routes them.
    const { rows: gated } = await api.db.query<{ failures: number }>(
      `SELECT coalesce(sum((detail->>'count')::int), 0)::int AS failures FROM audit_logs
       WHERE action = 'auth.failed' AND target_id = '*' AND detail->>'reason' = 'throttled'
         AND id > $1`,
      [before[0]?.id],
    );
    assert.ok((gated[0]?.failures ?? 0) >= FLOOD / 2, `${gated[0]?.failures} answered by the gate`);
  });

  test('one bad key from many addresses is looked up once, and every failure is audited', async () => {
    const { rows: before } = await api.db.query<{ id: string }>(
      `SELECT coalesce(max(id), 0)::text AS id FROM audit_logs`,
    );
    const lookups = countBadKeyLookups(api.server);
    const fromAddress = (i: number) =>
      api.server.call('GET', '/v1/emails', {
        key: 'smx_the_same_bad_key',
        headers: { 'x-forwarded-for': `203.0.113.${i % 250}` },
      });
    // The key is remembered once its first lookup failed, so until this instant plus the memory's
    // length; on a busy machine the burst may outlast it, and a lookup after that is due.
    const remembered = performance.now() + FAILED_KEY_MEMORY_SECONDS * 1000;
    const first = await fromAddress(0);
    assert.equal(first.status, 401);
    const answeredAt: number[] = [];
    const rest = await Promise.all(
      Array.from({ length: AT_A_TIME }, (_, i) =>
        fromAddress(i).then((response) => {
          answeredAt.push(performance.now());
          return response;
        }),
      ),
    );
    assert.deepEqual([...new Set(rest.map((response) => response.status))], [401]);
    assert.ok(
      answeredAt.some((at) => at < remembered),
      'no request of the burst was answered while the key was remembered',
    );
    assert.equal(
      lookups.at.filter((at) => at < remembered).length,
      1,
      'a key that just failed is refused from memory',
    );

    await eventually(async () => {
      const { rows } = await api.db.query<{ failures: number }>(
        `SELECT coalesce(sum((detail->>'count')::int), 0)::int AS failures
         FROM audit_logs WHERE action = 'auth.failed' AND detail->>'reason' = 'unknown'
           AND id > $1`,
        [before[0]?.id],
      );
      return rows[0]?.failures === AT_A_TIME + 1 ? true : undefined;
    });
  });
});
