import client from 'prom-client';
import { z } from 'zod';
import { route } from '../route-spec.js';

/**
 * GET /metrics: everything in prom-client's default registry, in Prometheus text format. Needs a
 * key with `metrics:read`: the metrics describe the traffic of every tenant.
 */
export function metricsRoute() {
  // Once per process, whoever builds a server first (tests build several).
  if (!client.register.getSingleMetric('process_cpu_user_seconds_total')) {
    client.collectDefaultMetrics();
  }
  return route({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics (API, emails, SMTP, database pool, process)',
    tag: 'operations',
    permission: 'metrics:read',
    response: z.string(),
    responseContentType: 'text/plain',
    handler: async ({ reply }) => {
      reply.type(client.register.contentType);
      return client.register.metrics();
    },
  });
}
