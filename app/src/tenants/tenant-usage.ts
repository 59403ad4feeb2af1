import type pg from 'pg';

/** One period of a tenant's usage (a UTC day or a UTC month). */
export interface UsagePeriod {
  accepted: number;
  bytes: number;
  delivered: number;
  bounced: number;
  /** The start of the next period. */
  resetsAt: Date;
}

/**
 * What a tenant's keys had accepted (emails and bytes) and what was delivered and bounced,
 * today and this month (UTC), from the per-day counters the accept statement and the
 * email_events trigger keep.
 */
export async function tenantUsage(
  db: pg.Pool | pg.PoolClient,
  tenantId: string,
): Promise<{ daily: UsagePeriod; monthly: UsagePeriod }> {
  const { rows } = await db.query<{
    period: 'daily' | 'monthly';
    accepted: number;
    bytes: number;
    delivered: number;
    bounced: number;
    resets_at: Date;
  }>(
    `WITH today AS (SELECT (now() AT TIME ZONE 'UTC')::date AS day),
     periods (period, first_day, next_day) AS (
       SELECT 'daily', day, day + 1 FROM today
       UNION ALL
       SELECT 'monthly', date_trunc('month', day)::date,
              (date_trunc('month', day) + interval '1 month')::date FROM today
     )
     SELECT p.period,
            coalesce((SELECT sum(emails) FROM tenant_daily_usage u WHERE u.tenant_id = $1
                        AND u.day >= p.first_day AND u.day < p.next_day), 0)::float8 AS accepted,
            coalesce((SELECT sum(bytes) FROM tenant_daily_usage u WHERE u.tenant_id = $1
                        AND u.day >= p.first_day AND u.day < p.next_day), 0)::float8 AS bytes,
            coalesce((SELECT sum(delivered) FROM tenant_daily_outcomes o WHERE o.tenant_id = $1
                        AND o.day >= p.first_day AND o.day < p.next_day), 0)::float8 AS delivered,
            coalesce((SELECT sum(bounced) FROM tenant_daily_outcomes o WHERE o.tenant_id = $1
                        AND o.day >= p.first_day AND o.day < p.next_day), 0)::float8 AS bounced,
            p.next_day::timestamp AT TIME ZONE 'UTC' AS resets_at
     FROM periods p`,
    [tenantId],
  );
  const period = (name: 'daily' | 'monthly'): UsagePeriod => {
    const row = rows.find((candidate) => candidate.period === name);
    if (!row) throw new Error(`no ${name} usage row`);
    return {
      accepted: row.accepted,
      bytes: row.bytes,
      delivered: row.delivered,
      bounced: row.bounced,
      resetsAt: row.resets_at,
    };
  };
  return { daily: period('daily'), monthly: period('monthly') };
}
