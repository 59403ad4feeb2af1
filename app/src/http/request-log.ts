import type { FastifyInstance, FastifyRequest } from 'fastify';

// Probed every few seconds by orchestrators and Prometheus: logged only at debug when healthy.
const PROBES = new Set(['/health', '/metrics']);

/** Requests whose line is logged at debug only: answers a flood can produce in bulk. */
const quietRequests = new WeakSet<FastifyRequest>();

/** Logs `request`'s line at debug instead of info (its cause is counted elsewhere). */
export function logAtDebug(request: FastifyRequest): void {
  quietRequests.add(request);
}

/** One log line per answer: request id (bound by Fastify), method, path, status, duration. */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const path = request.url.split('?')[0] ?? '';
    const quiet = (PROBES.has(path) && reply.statusCode < 400) || quietRequests.has(request);
    request.log[quiet ? 'debug' : 'info'](
      {
        method: request.method,
        url: path,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
    done();
  });
}
