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
 * database shares one budget. One atomic upsert per request; windows are aligned on the
 * database clock, which all instances share. The first request of a new window deletes the
 * key's older windows, so the table stays small without a sweeper.
 */
export async function consumeRateLimit(
  db: pg.Pool,
  apiKeyId: string,
  limit: number,
  windowSeconds: number,
): Promise<RateLimitDecision> {
  const { rows } = await db.query<{ requests: number; reset_seconds: number }>(
    `WITH window_start AS (
       SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp()) / $2) * $2) AS at
     ), hit AS (
       INSERT INTO rate_limit_windows (api_key_id, window_start, requests)
       SELECT $1, at, 1 FROM window_start
       ON CONFLICT (api_key_id, window_start)
       DO UPDATE SET requests = rate_limit_windows.requests + 1
       RETURNING requests, window_start
     )
     SELECT requests,
            ceil(extract(epoch FROM window_start + make_interval(secs => $2) - clock_timestamp()))::int
              AS reset_seconds
     FROM hit`,
    [apiKeyId, windowSeconds],
  );
  const { requests, reset_seconds } = rows[0] as { requests: number; reset_seconds: number };
  if (requests === 1) {
    void db
      .query(
        `DELETE FROM rate_limit_windows
         WHERE api_key_id = $1 AND window_start < now() - make_interval(secs => $2)`,
        [apiKeyId, windowSeconds],
      )
      .catch(() => undefined);
  }
  return {
    allowed: requests <= limit,
    limit,
    remaining: Math.max(0, limit - requests),
    resetSeconds: Math.max(1, reset_seconds),
  };
}
