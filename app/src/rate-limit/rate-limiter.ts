import type pg from 'pg';

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the current window ends (Retry-After when refused). */
  resetSeconds: number;
}

/**
 * Fixed-window request counting per API key in PostgreSQL, so that every app instance on the
 * database shares one budget: one atomic upsert per request, windows aligned on the database
 * clock, which all instances share. The first request of a new window deletes the key's older
 * windows, so the table stays small without a sweeper.
 *
 * `countRequestCte` is the SQL of a CTE named `hit` that counts one request for each key id
 * selected by the CTE `keys` (an `id` column); `window` is the SQL of the window length in
 * seconds (a parameter). Its rows carry `requests` and `reset_seconds`. The authentication
 * lookup uses it to count in the same statement.
 */
export function countRequestCte(keys: string, window: string): string {
  return `hit AS (
       INSERT INTO rate_limit_windows (api_key_id, window_start, requests)
       SELECT id, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / ${window}) * ${window}), 1
       FROM ${keys}
       ON CONFLICT (api_key_id, window_start)
       DO UPDATE SET requests = rate_limit_windows.requests + 1
       RETURNING requests,
         ceil(extract(epoch FROM window_start + make_interval(secs => ${window}) - clock_timestamp()))::int
           AS reset_seconds
     )`;
}

/** The decision for a counted request; the first request of a window clears older windows. */
export function rateLimitDecision(
  db: pg.Pool,
  apiKeyId: string,
  counted: { requests: number; resetSeconds: number },
  limit: number,
  windowSeconds: number,
): RateLimitDecision {
  if (counted.requests === 1) {
    void db
      .query(
        `DELETE FROM rate_limit_windows
         WHERE api_key_id = $1 AND window_start < now() - make_interval(secs => $2)`,
        [apiKeyId, windowSeconds],
      )
      .catch(() => undefined);
  }
  return {
    allowed: counted.requests <= limit,
    limit,
    remaining: Math.max(0, limit - counted.requests),
    resetSeconds: Math.max(1, counted.resetSeconds),
  };
}
