import type { FastifyInstance } from 'fastify';
import type { RouteSpec } from './route-spec.js';
import { parseInput } from './validation.js';

/**
 * Registers route specs on Fastify: validation of params, query and body with their zod
 * schemas (422 naming the field), and the permission in the route config for the
 * authentication hook.
 */
export function registerRoutes(app: FastifyInstance, specs: readonly RouteSpec[]): void {
  for (const spec of specs) {
    app.route({
      method: spec.method,
      url: spec.url,
      config: { permission: spec.permission, countsInAccept: spec.countsInAccept },
      handler: async (request, reply) => {
        const params = spec.params ? parseInput(spec.params, request.params, 'path') : undefined;
        const query = spec.query ? parseInput(spec.query, request.query ?? {}, 'query') : undefined;
        const body = spec.body ? parseInput(spec.body, request.body, 'body') : undefined;
        const result = await spec.handler({ body, query, params, request, reply });
        if (!reply.sent && reply.statusCode === 200 && spec.status) reply.code(spec.status);
        return result;
      },
    });
  }
}
