import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppProcess } from '../support/app-process.js';
import {
  type DrillEnvironment,
  type SendOutcome,
  sendEmail,
  startDrillEnvironment,
} from './support/drill-environment.js';

interface Burst {
  readonly outcomes: SendOutcome[];
  readonly listings: { status: number; message: string }[];
  /** Requests still open at their budget (aborted by the drill). */
  readonly hung: string[];
  /** The most connections seen at once, by application_name. */
  readonly maxConnections: Record<string, number>;
  /** Pool connections seen waiting on the lock at once: proof the pool was really used up. */
  readonly maxBlocked: number;
}

/**
 * Drill: more concurrent requests than DB_POOL_SIZE while every pool connection is stuck (here:
 * statements waiting on a table lock, as behind a long migration or a slow disk). Sends wait for
 * their batch (statement-batcher.ts) and listings for a pool connection. Guarantees: requests
 * queue and complete when the database moves again, or fail with a clear 503 after
 * DB_POOL_TIMEOUT; the app never opens more than DB_POOL_SIZE pool connections (the LISTEN
 * connection of the queue workers is a separate, single one).
 */
describe('drill: database pool exhaustion', { timeout: 180_000 }, () => {
  let env: DrillEnvironment;

  before(async () => {
    env = await startDrillEnvironment();
  });
  after(async () => {
    await env?.close();
  });

  /**
   * Holds a lock that blocks every statement on emails for `holdMs` while `requests` sends and
   * `listings` GET /v1/emails (each holding pool connections, not batched) are made at once;
   * past `holdMs`, keeps it until `blockedBeforeRelease` connections were seen waiting on it (up
   * to 20 s more: on a busy machine the requests may take longer to reach the pool).
   */
  async function burst(
    app: AppProcess,
    requests: number,
    listings: number,
    holdMs: number,
    budgetMs: number,
    blockedBeforeRelease = 0,
  ): Promise<Burst> {
    const blocker = await env.postgres.client('selfmx');
    const monitor = await env.postgres.client('selfmx');
    const maxConnections: Record<string, number> = {};
    let maxBlocked = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await monitor.query<{ name: string; n: number; blocked: number }>(
          `SELECT application_name AS name, count(*)::int AS n,
                  count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS blocked
             FROM pg_stat_activity
            WHERE application_name LIKE 'selfmx%' GROUP BY application_name`,
        );
        for (const row of rows) {
          maxConnections[row.name] = Math.max(maxConnections[row.name] ?? 0, row.n);
          if (row.name === 'selfmx') maxBlocked = Math.max(maxBlocked, row.blocked);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE emails IN ACCESS EXCLUSIVE MODE');
      const hung: string[] = [];
      const budget = () => AbortSignal.timeout(budgetMs);
      const unanswered = (what: string) => (error: Error) => {
        hung.push(`${what}: ${error.message}`);
        return undefined;
      };
      const sent = Array.from({ length: requests }, (_, index) =>
        sendEmail(app, env.apiKey, index, budget()).catch(unanswered(`send ${index}`)),
      );
      const listed = Array.from({ length: listings }, (_, index) =>
        listEmails(app, budget()).catch(unanswered(`listing ${index}`)),
      );
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      const holdLimit = Date.now() + 20_000;
      while (maxBlocked < blockedBeforeRelease && Date.now() < holdLimit) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await blocker.query('COMMIT');
      const outcomes = (await Promise.all(sent)).filter((o): o is SendOutcome => o !== undefined);
      const listingStatuses = (await Promise.all(listed)).filter((o) => o !== undefined);
      return { outcomes, listings: listingStatuses, hung, maxConnections, maxBlocked };
    } finally {
      sampling = false;
      await sampler;
      await Promise.all([blocker.end(), monitor.end()].map((p) => p.catch(() => undefined)));
    }
  }

  async function listEmails(app: AppProcess, signal: AbortSignal) {
    const response = await fetch(`${app.url}/v1/emails?limit=1`, {
      headers: { authorization: `Bearer ${env.apiKey}` },
      signal,
    });
    const body = (await response.json()) as { message?: string };
    return { status: response.status, message: body.message ?? '' };
  }

  async function storedCount(ids: (string | undefined)[]): Promise<number> {
    const { rows } = await env.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return rows[0]?.n ?? 0;
  }

  it('queues requests beyond the pool and completes them when connections free up', async () => {
    const poolSize = 3;
    const app = await env.startApp({
      DB_POOL_SIZE: String(poolSize),
      DB_POOL_TIMEOUT: '30',
      QUEUE_WORKERS: '1',
    });
    const result = await burst(app, 30, 6, 1500, 45_000, poolSize);

    assert.deepEqual(result.hung, []);
    const refused = result.outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(refused, [], 'within DB_POOL_TIMEOUT every queued request completes');
    assert.deepEqual(
      result.listings.map((listing) => listing.status),
      Array(6).fill(200),
    );
    assert.equal(await storedCount(result.outcomes.map((o) => o.body.id)), 30);
    assert.equal(result.maxBlocked, poolSize, 'every pool connection was stuck at once');
    assert.ok(
      (result.maxConnections.selfmx ?? 0) <= poolSize,
      `pool connections ${JSON.stringify(result.maxConnections)} exceed DB_POOL_SIZE=${poolSize}`,
    );
    assert.ok((result.maxConnections['selfmx-queue-listener'] ?? 0) <= 1, 'one LISTEN connection');
    await app.stop();
  });

  it('fails requests that wait past DB_POOL_TIMEOUT with a clear 503', async () => {
    const poolSize = 2;
    const poolTimeoutSeconds = 1;
    const app = await env.startApp({
      DB_POOL_SIZE: String(poolSize),
      DB_POOL_TIMEOUT: String(poolTimeoutSeconds),
      QUEUE_WORKERS: '0',
    });
    // The lock outlasts the pool timeout; each request needs at most three connections in turn.
    const holdMs = 4000;
    const result = await burst(app, 12, 4, holdMs, holdMs + 3 * poolTimeoutSeconds * 1000 + 5000);

    assert.deepEqual(result.hung, [], 'no request outlives the lock plus its pool timeouts');
    const timedOut = [
      ...result.outcomes
        .filter((o) => o.status !== 200)
        .map((o) => ({
          status: o.status,
          message: o.body.message ?? '',
        })),
      ...result.listings.filter((listing) => listing.status !== 200),
    ];
    assert.ok(timedOut.length > 0, 'requests queued past DB_POOL_TIMEOUT are refused');
    for (const outcome of timedOut) {
      assert.equal(outcome.status, 503, outcome.message);
      assert.match(outcome.message, /DB_POOL_TIMEOUT/, 'the 503 names the setting');
    }
    const accepted = result.outcomes.filter((o) => o.status === 200);
    assert.equal(await storedCount(accepted.map((o) => o.body.id)), accepted.length);
    assert.ok(
      (result.maxConnections.selfmx ?? 0) <= poolSize,
      `pool connections ${JSON.stringify(result.maxConnections)} exceed DB_POOL_SIZE=${poolSize}`,
    );
    await app.stop();
  });
});
