import type { FastifyInstance } from 'fastify';

// Probed every few seconds by orchestrators and Prometheus: logged only at debug when healthy.
const PROBES = new Set(['/health', '/metrics']);

/** One log line per answer: request id (bound by Fastify), method, path, status, duration. */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const quiet = PROBES.has(path) && reply.statusCode < 400;
    request.log[quiet ? 'debug' : 'info'](
      {
        method: request.method,
        url: path,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
}
