import { z } from 'zod';
import { route } from '../route-spec.js';

/** GET /openapi.json: the OpenAPI 3.1 description, built once from the route schemas. */
export function openApiRoute(document: () => object) {
  // Serialised once: the document is some 40 kB and never changes while the process runs.
  let serialised: string | undefined;
  return route({
    method: 'GET',
    url: '/openapi.json',
    summary: 'This API as OpenAPI 3.1',
    tag: 'operations',
    response: z.object({ openapi: z.string() }).loose(),
    handler: async ({ reply }) => {
      serialised ??= JSON.stringify(document());
      reply.type('application/json; charset=utf-8');
      return serialised;
    },
  });
}
