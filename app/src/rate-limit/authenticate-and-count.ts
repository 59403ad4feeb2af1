import type pg from 'pg';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import { countRequestsCte, type RateLimitDecision, rateLimitDecision } from './rate-limiter.js';

export type KeyLookup =
  | { kind: 'live'; key: ApiKeyIdentity; rateLimit: RateLimitDecision }
  | { kind: 'revoked'; id: string; tenantId: string }
  | { kind: 'unknown' };

/** Up to this many authentications share one statement (see statement-batcher.ts). */
const LOOKUP_BATCH: BatchLimits = { maxBatch: 128, maxInFlight: 2 };

/**
 * The hot path of every authenticated request: finds the key by the hash of the presented
 * secret and, when it is live, counts the request against its rate limit. Requests that arrive
 * together are looked up and counted in one statement.
 */
export class KeyAuthenticator {
  private readonly batcher: StatementBatcher<Buffer, KeyLookup>;

  constructor(pool: pg.Pool, limit: number, windowSeconds: number) {
    this.batcher = new StatementBatcher(
      (hashes) => findKeysAndCountRequests(pool, hashes, limit, windowSeconds),
      LOOKUP_BATCH,
      batchWaitOf(pool),
    );
  }

  /** The key of `hash` with this request counted. */
  lookup(hash: Buffer): Promise<KeyLookup> {
    return this.batcher.submit(hash);
  }
}

/**
 * Looks up every presented hash and counts one request per presentation, in one round trip.
 * A key presented n times gets n requests added at once; the presentations take the places
 * n-1 .. 0 before the window's new count, in order, so the decisions are exactly those of n
 * requests counted one by one (and shared with every instance on the database).
 */
export async function findKeysAndCountRequests(
  db: pg.Pool,
  hashes: readonly Buffer[],
  limit: number,
  windowSeconds: number,
): Promise<KeyLookup[]> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    permissions: string[];
    is_bootstrap: boolean;
    key_hash: Buffer;
    last_used_at: Date | null;
    revoked_at: Date | null;
    /** How many times the batch presents this key. */
    n: number;
    requests: number | null;
    reset_seconds: number | null;
  }>({
    // Named: parsed and planned once per connection, not on every request.
    name: 'selfmx_find_keys_and_count',
    text: `WITH presented AS (
       SELECT hash, count(*)::int AS n FROM unnest($1::bytea[]) AS p(hash) GROUP BY hash
     ), found AS (
       SELECT k.id, k.tenant_id, k.permissions, k.is_bootstrap, k.key_hash, k.last_used_at,
              k.revoked_at, presented.n
       FROM presented JOIN api_keys k ON k.key_hash = presented.hash
     ), live AS (SELECT id, n FROM found WHERE revoked_at IS NULL),
     ${countRequestsCte('live', '$2')}
     SELECT found.*, hit.requests, hit.reset_seconds
     FROM found LEFT JOIN hit ON hit.api_key_id = found.id`,
    values: [hashes, windowSeconds],
  });
  const byHash = new Map(rows.map((row) => [row.key_hash.toString('hex'), row]));
  // Per key, how many of its presentations have been given a place so far.
  const placed = new Map<string, number>();
  return hashes.map((hash): KeyLookup => {
    const row = byHash.get(hash.toString('hex'));
    if (!row) return { kind: 'unknown' };
    if (row.revoked_at || row.requests === null) {
      return { kind: 'revoked', id: row.id, tenantId: row.tenant_id };
    }
    const before = placed.get(row.id) ?? 0;
    placed.set(row.id, before + 1);
    const key: ApiKeyIdentity = {
      id: row.id,
      tenantId: row.tenant_id,
      permissions: row.permissions,
      isBootstrap: row.is_bootstrap,
      keyHash: row.key_hash,
      lastUsedAt: row.last_used_at,
    };
    const counted = {
      requests: row.requests - row.n + before + 1,
      resetSeconds: row.reset_seconds ?? 1,
    };
    return {
      kind: 'live',
      key,
      rateLimit: rateLimitDecision(db, key.id, counted, limit, windowSeconds),
    };
  });
}
