import type pg from 'pg';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { DEFAULT_TENANT_NAME } from '../auth/bootstrap-key.js';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import {
  countRequestsCte,
  countTenantRequestsCte,
  type RateLimitDecision,
  rateLimitDecision,
  tenantRateLimitDecision,
} from './rate-limiter.js';

export type KeyLookup =
  | {
      kind: 'live';
      key: ApiKeyIdentity;
      rateLimit: RateLimitDecision;
      /** The tenant's limit across all its keys, when it has one. */
      tenantRateLimit?: RateLimitDecision;
    }
  | { kind: 'tenant_disabled'; key: ApiKeyIdentity }
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
 * requests counted one by one (and shared with every instance on the database). The same goes
 * for a tenant with a limit across its keys. A disabled tenant's keys count nothing.
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
    tenant_disabled: boolean;
    is_operator_tenant: boolean;
    rate_limit_requests: number | null;
    rate_limit_window: number;
    /** How many times the batch presents this key. */
    n: number;
    requests: number | null;
    reset_seconds: number | null;
    tenant_requests: number | null;
    tenant_reset_seconds: number | null;
  }>({
    // Named: parsed and planned once per connection, not on every request.
    name: 'selfmx_find_keys_and_count',
    text: `WITH presented AS (
       SELECT hash, count(*)::int AS n FROM unnest($1::bytea[]) AS p(hash) GROUP BY hash
     ), found AS (
       SELECT k.id, k.tenant_id, k.permissions, k.is_bootstrap, k.key_hash, k.last_used_at,
              k.revoked_at, presented.n, t.disabled_at IS NOT NULL AS tenant_disabled,
              t.name = $3 AS is_operator_tenant, t.rate_limit_requests, t.rate_limit_window
       FROM presented JOIN api_keys k ON k.key_hash = presented.hash
       JOIN tenants t ON t.id = k.tenant_id
     ), live AS (SELECT id, n FROM found WHERE revoked_at IS NULL AND NOT tenant_disabled),
     ${countRequestsCte('live', '$2')},
     limited_tenants AS (
       SELECT tenant_id AS id, sum(n)::int AS n, min(rate_limit_window) AS "window"
       FROM found WHERE revoked_at IS NULL AND NOT tenant_disabled
         AND rate_limit_requests IS NOT NULL
       GROUP BY tenant_id
     ),
     ${countTenantRequestsCte('limited_tenants')}
     SELECT found.*, hit.requests, hit.reset_seconds, tenant_hit.requests AS tenant_requests,
            ceil(extract(epoch FROM tenant_hit.window_start
              + make_interval(secs => found.rate_limit_window) - clock_timestamp()))::int
              AS tenant_reset_seconds
     FROM found LEFT JOIN hit ON hit.api_key_id = found.id
     LEFT JOIN tenant_hit ON tenant_hit.tenant_id = found.tenant_id`,
    values: [hashes, windowSeconds, DEFAULT_TENANT_NAME],
  });
  const byHash = new Map(rows.map((row) => [row.key_hash.toString('hex'), row]));
  // Per key, and per limited tenant, how many presentations have been given a place so far.
  const placed = new Map<string, number>();
  const tenantPlaced = new Map<string, number>();
  const tenantPresented = new Map<string, number>();
  for (const row of rows) {
    if (row.tenant_requests === null) continue;
    tenantPresented.set(row.tenant_id, (tenantPresented.get(row.tenant_id) ?? 0) + row.n);
  }
  return hashes.map((hash): KeyLookup => {
    const row = byHash.get(hash.toString('hex'));
    if (!row) return { kind: 'unknown' };
    if (row.revoked_at) return { kind: 'revoked', id: row.id, tenantId: row.tenant_id };
    const key: ApiKeyIdentity = {
      id: row.id,
      tenantId: row.tenant_id,
      permissions: row.permissions,
      isBootstrap: row.is_bootstrap,
      keyHash: row.key_hash,
      lastUsedAt: row.last_used_at,
      isOperatorTenant: row.is_operator_tenant,
    };
    if (row.tenant_disabled) return { kind: 'tenant_disabled', key };
    if (row.requests === null) return { kind: 'revoked', id: row.id, tenantId: row.tenant_id };
    const before = placed.get(row.id) ?? 0;
    placed.set(row.id, before + 1);
    const counted = {
      requests: row.requests - row.n + before + 1,
      resetSeconds: row.reset_seconds ?? 1,
    };
    const lookup: KeyLookup = {
      kind: 'live',
      key,
      rateLimit: rateLimitDecision(db, key.id, counted, limit, windowSeconds),
    };
    if (row.tenant_requests !== null && row.rate_limit_requests !== null) {
      const tenantBefore = tenantPlaced.get(row.tenant_id) ?? 0;
      tenantPlaced.set(row.tenant_id, tenantBefore + 1);
      const presented = tenantPresented.get(row.tenant_id) ?? 0;
      lookup.tenantRateLimit = tenantRateLimitDecision(
        db,
        row.tenant_id,
        {
          requests: row.tenant_requests - presented + tenantBefore + 1,
          resetSeconds: row.tenant_reset_seconds ?? 1,
        },
        row.rate_limit_requests,
        row.rate_limit_window,
      );
    }
    return lookup;
  });
}
