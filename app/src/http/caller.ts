import type { FastifyRequest } from 'fastify';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { clientAddress } from './client-address.js';
import './fastify-types.js';

/** The authenticated API key of a protected route (set by the authentication hook). */
export function callerOf(request: FastifyRequest): ApiKeyIdentity {
  if (!request.apiKey) throw new Error('authentication hook did not run for this route');
  return request.apiKey;
}

/** Who did it, for audit entries. */
export function auditContext(request: FastifyRequest) {
  const caller = callerOf(request);
  return {
    tenantId: caller.tenantId,
    actorKeyId: caller.id,
    requestId: request.id,
    ip: clientAddress(request),
  };
}
