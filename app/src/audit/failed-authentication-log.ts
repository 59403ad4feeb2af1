import type pg from 'pg';
import type { Logger } from '../logger.js';

/** One failed authentication, as the authentication hook saw it. */
export interface FailedAuthentication {
  reason: string;
  /** A valid IP address, or undefined. */
  ip: string | undefined;
  /** `METHOD /route`. */
  route: string;
  /** Null for a request refused before Fastify gave it an id (see throttled-address-gate.ts). */
  requestId: string | null;
  /** Set for a revoked key: the failure is attributed to its tenant. */
  tenantId: string | null;
  actorKeyId: string | null;
}

interface Aggregate {
  readonly failure: FailedAuthentication;
  count: number;
  readonly firstAt: Date;
  lastAt: Date;
}

/** How often the aggregates are written, unless the options say otherwise. */
export const FAILED_AUTHENTICATION_FLUSH_INTERVAL_MS = 1_000;

export interface FailedAuthenticationLogOptions {
  /** How often the aggregates are written. @default FAILED_AUTHENTICATION_FLUSH_INTERVAL_MS */
  readonly flushIntervalMs?: number;
  /** The most distinct aggregates kept between writes. @default 10000 */
  readonly maxAggregates?: number;
}

/**
 * Failed authentications go to audit_logs as `auth.failed` rows aggregated per client address,
 * minute, reason, route and key: a request only bumps a counter in memory, and one INSERT per
 * flush interval writes every aggregate, never more than one at a time. So a flood of bad keys
 * holds at most one pool connection and writes at most one row per aggregate per interval. Past
 * `maxAggregates` distinct aggregates, new failures are counted in one row per reason without
 * address or route, so memory stays bounded whatever the flood.
 */
export class FailedAuthenticationLog {
  private aggregates = new Map<string, Aggregate>();
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly maxAggregates: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    options: FailedAuthenticationLogOptions = {},
  ) {
    this.maxAggregates = options.maxAggregates ?? 10_000;
    this.timer = setInterval(
      () => void this.flush(),
      options.flushIntervalMs ?? FAILED_AUTHENTICATION_FLUSH_INTERVAL_MS,
    );
    this.timer.unref();
  }

  record(failure: FailedAuthentication, at: Date = new Date()): void {
    const minute = Math.floor(at.getTime() / 60_000);
    let key = [minute, failure.ip, failure.reason, failure.route, failure.actorKeyId].join('|');
    let counted = failure;
    if (!this.aggregates.has(key) && this.aggregates.size >= this.maxAggregates) {
      key = `${minute}|overflow|${failure.reason}`;
      counted = { ...failure, ip: undefined, route: '*', tenantId: null, actorKeyId: null };
    }
    const aggregate = this.aggregates.get(key);
    if (aggregate) {
      aggregate.count += 1;
      aggregate.lastAt = at;
    } else {
      this.aggregates.set(key, { failure: counted, count: 1, firstAt: at, lastAt: at });
    }
  }

  /** Writes what has been counted, in one statement; a write already under way is awaited. */
  async flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.aggregates.size === 0) return;
    const batch = [...this.aggregates.values()];
    this.aggregates = new Map();
    this.writing = insertAggregates(this.pool, batch)
      .catch((error: unknown) =>
        this.logger.warn(
          { err: error, failures: batch.reduce((sum, aggregate) => sum + aggregate.count, 0) },
          'could not audit failed authentications',
        ),
      )
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
    await this.flush();
  }
}

async function insertAggregates(pool: pg.Pool, batch: readonly Aggregate[]): Promise<void> {
  const column = <T>(pick: (aggregate: Aggregate) => T) => batch.map(pick);
  await pool.query(
    `INSERT INTO audit_logs
       (tenant_id, actor_key_id, action, target_type, target_id, request_id, ip, detail)
     SELECT tenant_id, actor_key_id, 'auth.failed', 'route', target_id, request_id, ip, detail
     FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::inet[], $6::jsonb[])
       AS f(tenant_id, actor_key_id, target_id, request_id, ip, detail)`,
    [
      column((a) => a.failure.tenantId),
      column((a) => a.failure.actorKeyId),
      column((a) => a.failure.route),
      column((a) => a.failure.requestId),
      column((a) => a.failure.ip ?? null),
      column((a) =>
        JSON.stringify({
          reason: a.failure.reason,
          count: a.count,
          first_at: a.firstAt.toISOString(),
          last_at: a.lastAt.toISOString(),
        }),
      ),
    ],
  );
}
