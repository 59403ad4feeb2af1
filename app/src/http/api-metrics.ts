import type { FastifyInstance } from 'fastify';
import client from 'prom-client';

/** API metrics in prom-client's default registry (module-level: registered once per process). */
const requests = new client.Counter({
  name: 'selfmx_api_requests_total',
  help: 'HTTP requests answered by the API, by method, route and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
});

const duration = new client.Histogram({
  name: 'selfmx_api_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

const errors = new client.Counter({
  name: 'selfmx_api_errors_total',
  help: 'HTTP answers with a 4xx or 5xx status, by method, route and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
});

/** Counts and times every answer; unknown URLs share one route label to bound cardinality. */
export function registerApiMetrics(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 400) errors.inc(labels);
    done();
  });
}
