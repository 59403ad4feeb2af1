import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import type { Permission } from '../auth/permissions.js';
import type { DeferredAuthentication } from './deferred-authentication.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated API key; set by the authentication hook on protected routes. */
    apiKey?: ApiKeyIdentity;
    /** Set instead of a counted lookup when the route's accept statement authenticates. */
    deferredAuthentication?: DeferredAuthentication;
  }
  interface FastifyContextConfig {
    /** The permission a route needs; undefined for public routes. */
    permission?: Permission | undefined;
    /** The route's accept statement authenticates a known key and counts the request. */
    countsInAccept?: boolean | undefined;
  }
}
