import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import type { Permission } from '../auth/permissions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated API key; set by the authentication hook on protected routes. */
    apiKey?: ApiKeyIdentity;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; undefined for public routes. */
    permission?: Permission | undefined;
  }
}
