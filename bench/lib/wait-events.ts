import type pg from 'pg';

export interface WaitEventSampler {
  /** Stops sampling; answers how often each `state / wait_event_type:wait_event` was seen. */
  stop(): Promise<{ samples: number; counts: Record<string, number> }>;
}

/**
 * Every `everyMs`, counts what the app's backends are doing (pg_stat_activity): running, idle
 * in a transaction, waiting on a lock or on the client. Shows where delivery's statements spend
 * their time as seen from PostgreSQL.
 */
export function sampleWaitEvents(
  client: pg.Client,
  applicationName: string,
  everyMs = 20,
): WaitEventSampler {
  const counts: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await client.query<{ what: string; n: number }>(
        `SELECT state || coalesce(' / ' || wait_event_type || ':' || wait_event, '') AS what,
                count(*)::int AS n
           FROM pg_stat_activity
          WHERE application_name = $1 AND pid <> pg_backend_pid()
          GROUP BY 1`,
        [applicationName],
      );
      samples += 1;
      for (const row of rows) counts[row.what] = (counts[row.what] ?? 0) + row.n;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { samples, counts };
    },
  };
}
