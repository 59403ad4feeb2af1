import type pg from 'pg';

/** The per-key rate limit: RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW seconds. */
export interface KeyRateLimit {
  readonly requests: number;
  readonly windowSeconds: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the current window ends (Retry-After when refused). */
  resetSeconds: number;
}

/**
 * Fixed-window request counting per API key in PostgreSQL, so that every app instance on the
 * database shares one budget: one atomic upsert adds a key's requests (all those of a batch at
 * once), windows aligned on the database clock, which all instances share. The first request of
 * a new window deletes the key's older windows, so the table stays small without a sweeper.
 *
 * `countRequestsCte` is the SQL of a CTE named `hit` that adds `n` requests for each key `id`
 * selected by the CTE `keys` (columns `id`, `n`); `window` is the SQL of the window length in
 * seconds (a parameter). Its rows carry `api_key_id`, `requests` (the window's count after the
 * addition) and `reset_seconds`.
 */
export function countRequestsCte(keys: string, window: string): string {
  return `hit AS (
       INSERT INTO rate_limit_windows (api_key_id, window_start, requests)
       SELECT id, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / ${window}) * ${window}), n
       FROM ${keys}
       ON CONFLICT (api_key_id, window_start)
       DO UPDATE SET requests = rate_limit_windows.requests + EXCLUDED.requests
       RETURNING api_key_id, requests,
         ceil(extract(epoch FROM window_start + make_interval(secs => ${window}) - clock_timestamp()))::int
           AS reset_seconds
     )`;
}

/** The windows of one key (or tenant) that have ended, which the first request of a window clears. */
const ENDED_WINDOWS = {
  key: `DELETE FROM rate_limit_windows
         WHERE api_key_id = $1 AND window_start < now() - make_interval(secs => $2)`,
  tenant: `DELETE FROM tenant_request_windows
            WHERE tenant_id = $1 AND window_start < now() - make_interval(secs => $2)`,
} as const;

/**
 * The decision for one counted request: `requests` is its place in the window (1 for the first).
 * The first request of a window clears the key's older windows.
 */
export function rateLimitDecision(
  db: pg.Pool,
  apiKeyId: string,
  counted: { requests: number; resetSeconds: number },
  limit: number,
  windowSeconds: number,
): RateLimitDecision {
  return windowDecision(db, ENDED_WINDOWS.key, apiKeyId, counted, limit, windowSeconds);
}

/**
 * The CTE `tenant_hit`: adds `n` requests to the current window of each tenant `id` selected by
 * the CTE `tenants` (columns `id`, `n`, `window`: that tenant's window in seconds). Its rows
 * carry `tenant_id`, `requests` (after the addition) and `window_start`.
 */
export function countTenantRequestsCte(tenants: string): string {
  return `tenant_hit AS (
       INSERT INTO tenant_request_windows (tenant_id, window_start, requests)
       SELECT id, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / "window") * "window"), n
       FROM ${tenants}
       ON CONFLICT (tenant_id, window_start)
       DO UPDATE SET requests = tenant_request_windows.requests + EXCLUDED.requests
       RETURNING tenant_id, requests, window_start
     )`;
}

/** As rateLimitDecision, for a tenant's limit across all its keys. */
export function tenantRateLimitDecision(
  db: pg.Pool,
  tenantId: string,
  counted: { requests: number; resetSeconds: number },
  limit: number,
  windowSeconds: number,
): RateLimitDecision {
  return windowDecision(db, ENDED_WINDOWS.tenant, tenantId, counted, limit, windowSeconds);
}

function windowDecision(
  db: pg.Pool,
  clearEndedWindows: string,
  ownerId: string,
  counted: { requests: number; resetSeconds: number },
  limit: number,
  windowSeconds: number,
): RateLimitDecision {
  if (counted.requests === 1) {
    void db.query(clearEndedWindows, [ownerId, windowSeconds]).catch(() => undefined);
  }
  return {
    allowed: counted.requests <= limit,
    limit,
    remaining: Math.max(0, limit - counted.requests),
    resetSeconds: Math.max(1, counted.resetSeconds),
  };
}
