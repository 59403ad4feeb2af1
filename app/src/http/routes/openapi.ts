import { z } from 'zod';
import { route } from '../route-spec.js';

/** GET /openapi.json: the OpenAPI 3.1 description, built once from the route schemas. */
export function openApiRoute(document: () => object) {
  return route({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This API as OpenAPI 3.1',
    tag: 'operations',
    response: z.object({ openapi: z.string() }).loose(),
    handler: async () => document(),
  });
}
