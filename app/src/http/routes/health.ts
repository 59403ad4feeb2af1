import { z } from 'zod';
import { explainDatabaseError } from '../../db/explain-error.js';
import { type QueueDepth, queueDepthOf } from '../../queue/queue-depth.js';
import { isDatabaseUnavailable } from '../database-unavailable.js';
import { route } from '../route-spec.js';
import type { ServerDeps } from '../server-deps.js';

// /health answers within this bound even when PostgreSQL does not (and within the pool timeout).
const MAX_CHECK_SECONDS = 5;

const healthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  database: z.enum(['ok', 'unavailable']),
  smtp: z.string(),
  queue_depth: z.number().int().nullable(),
  reason: z.string().optional(),
});

/**
 * GET /health: 200 while PostgreSQL answers, 503 with the reason when it does not. SMTP is
 * reported but never fails the check: an SMTP outage must not get the containers restarted.
 * The database check is the shared queue-depth count (at most one query a second, see
 * QueueDepth), so a flood of /health costs PostgreSQL nothing more.
 */
export function healthRoute({ pool, config, smtp }: ServerDeps) {
  const timeoutMs = Math.min(config.database.poolTimeoutSeconds, MAX_CHECK_SECONDS) * 1000;
  const queueDepth = queueDepthOf(pool);
  return route({
    method: 'GET',
    url: '/health',
    summary: 'Liveness and readiness: the database answers (200) or not (503)',
    tag: 'operations',
    response: healthSchema,
    handler: async ({ request, reply }) => {
      const [database, smtpStatus] = await Promise.all([
        checkDatabase(queueDepth, timeoutMs),
        withTimeout(
          Promise.resolve().then(() => smtp.status()),
          timeoutMs,
        ).catch(() => 'unknown'),
      ]);
      if ('error' in database) {
        // /health is public (the load balancer probes it): the answer says what kind of failure,
        // the log says where and what to do.
        request.log.warn(
          { event: 'health_database_unavailable' },
          explainDatabaseError(database.error, config.database),
        );
        reply.code(503);
        return {
          status: 'unavailable',
          database: 'unavailable',
          smtp: smtpStatus,
          queue_depth: null,
          reason: describe(database.error),
        };
      }
      return { status: 'ok', database: 'ok', smtp: smtpStatus, queue_depth: database.queueDepth };
    },
  });
}

async function checkDatabase(
  queueDepth: QueueDepth,
  timeoutMs: number,
): Promise<{ queueDepth: number } | { error: unknown }> {
  try {
    return { queueDepth: await withTimeout(queueDepth.read(), timeoutMs) };
  } catch (error) {
    return { error };
  }
}

/** The kind of failure and its code, never host names, addresses or user names. */
function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const prefix = isDatabaseUnavailable(error) ? 'database unreachable' : 'database check failed';
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)
    ? `${prefix} (${code})`
    : prefix;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
