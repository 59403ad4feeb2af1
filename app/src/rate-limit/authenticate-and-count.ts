import type pg from 'pg';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { countRequestCte, type RateLimitDecision, rateLimitDecision } from './rate-limiter.js';

export type KeyLookup =
  | { kind: 'live'; key: ApiKeyIdentity; rateLimit: RateLimitDecision }
  | { kind: 'revoked'; id: string; tenantId: string }
  | { kind: 'unknown' };

/**
 * The hot path of every authenticated request in one round trip: finds the key by the hash of
 * the presented secret and, when it is live, counts the request against its rate limit.
 */
export async function findKeyAndCountRequest(
  db: pg.Pool,
  hash: Buffer,
  limit: number,
  windowSeconds: number,
): Promise<KeyLookup> {
  const { rows } = await db.query<{
    id: string;
    tenant_id: string;
    permissions: string[];
    is_bootstrap: boolean;
    key_hash: Buffer;
    last_used_at: Date | null;
    revoked_at: Date | null;
    requests: number | null;
    reset_seconds: number | null;
  }>({
    // Named: parsed and planned once per connection, not on every request.
    name: 'selfmx_find_key_and_count',
    text: `WITH found AS (
       SELECT id, tenant_id, permissions, is_bootstrap, key_hash, last_used_at, revoked_at
       FROM api_keys WHERE key_hash = $1
     ), live AS (SELECT id FROM found WHERE revoked_at IS NULL),
     ${countRequestCte('live', '$2')}
     SELECT found.*, hit.requests, hit.reset_seconds FROM found LEFT JOIN hit ON true`,
    values: [hash, windowSeconds],
  });
  const row = rows[0];
  if (!row) return { kind: 'unknown' };
  if (row.revoked_at || row.requests === null) {
    return { kind: 'revoked', id: row.id, tenantId: row.tenant_id };
  }
  const key: ApiKeyIdentity = {
    id: row.id,
    tenantId: row.tenant_id,
    permissions: row.permissions,
    isBootstrap: row.is_bootstrap,
    keyHash: row.key_hash,
    lastUsedAt: row.last_used_at,
  };
  const counted = { requests: row.requests, resetSeconds: row.reset_seconds ?? 1 };
  return {
    kind: 'live',
    key,
    rateLimit: rateLimitDecision(db, key.id, counted, limit, windowSeconds),
  };
}
