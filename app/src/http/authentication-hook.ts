import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { recordAudit } from '../audit/audit-log.js';
import { type ApiKeyIdentity, touchLastUsed } from '../auth/api-key-repository.js';
import { hashApiKey, sameHash } from '../auth/api-key-secret.js';
import { hasPermission } from '../auth/permissions.js';
import type { HttpConfig } from '../config/app-config.js';
import { KeyAuthenticator } from '../rate-limit/authenticate-and-count.js';
import type { RateLimitDecision } from '../rate-limit/rate-limiter.js';
import { ApiError } from './api-error.js';
import './fastify-types.js';

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/**
 * On every route that names a permission: authenticate the Bearer key (401, audited when it
 * fails), count the request against the key's rate limit (429 with Retry-After), then check
 * the permission (403). Runs before the body is read, so rejected requests cost little.
 */
export function registerAuthentication(
  app: FastifyInstance,
  pool: pg.Pool,
  http: HttpConfig,
): void {
  const authenticator = new KeyAuthenticator(
    pool,
    http.rateLimitRequests,
    http.rateLimitWindowSeconds,
  );
  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const { key, rateLimit } = await authenticate(pool, authenticator, request);
    request.apiKey = key;
    touchLastUsed(pool, key).catch((error: unknown) =>
      request.log.warn({ err: error }, 'could not record api key last use'),
    );

    reply.header('ratelimit-limit', String(rateLimit.limit));
    reply.header('ratelimit-remaining', String(rateLimit.remaining));
    reply.header('ratelimit-reset', String(rateLimit.resetSeconds));
    if (!rateLimit.allowed) {
      throw new ApiError(
        429,
        'rate_limit_exceeded',
        `too many requests: this API key may make ${rateLimit.limit} requests per ${http.rateLimitWindowSeconds} s; retry after ${rateLimit.resetSeconds} s`,
        { 'retry-after': String(rateLimit.resetSeconds) },
      );
    }
    if (!hasPermission(key.permissions, permission)) {
      throw new ApiError(
        403,
        'restricted_api_key',
        `this API key lacks the "${permission}" permission needed for ${request.method} ${request.routeOptions.url}`,
      );
    }
  });
}

/** The live key of the Bearer secret, with its request counted, or a 401. */
async function authenticate(
  pool: pg.Pool,
  authenticator: KeyAuthenticator,
  request: FastifyRequest,
): Promise<{ key: ApiKeyIdentity; rateLimit: RateLimitDecision }> {
  const header = request.headers.authorization;
  if (!header) {
    await auditFailure(pool, request, 'missing');
    throw new ApiError(
      401,
      'missing_api_key',
      'Authorization: missing API key; send "Authorization: Bearer <key>"',
    );
  }
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    await auditFailure(pool, request, 'malformed');
    throw new ApiError(401, 'invalid_api_key', 'Authorization: expected "Bearer <key>"');
  }
  const hash = hashApiKey(token);
  const found = await authenticator.lookup(hash);
  if (found.kind !== 'live' || !sameHash(found.key.keyHash, hash)) {
    const known = found.kind === 'revoked' ? found : undefined;
    await auditFailure(pool, request, known ? 'revoked' : 'unknown', known);
    throw new ApiError(401, 'invalid_api_key', 'Authorization: API key is invalid or revoked');
  }
  return { key: found.key, rateLimit: found.rateLimit };
}
/** Failed authentications are audited; a revoked key is attributed to its tenant. */
async function auditFailure(
  pool: pg.Pool,
  request: FastifyRequest,
  reason: string,
  known?: { id: string; tenantId: string },
): Promise<void> {
  await recordAudit(pool, {
    tenantId: known?.tenantId ?? null,
    actorKeyId: known?.id ?? null,
    action: 'auth.failed',
    targetType: 'route',
    targetId: `${request.method} ${request.routeOptions.url}`,
    requestId: request.id,
    ip: request.ip,
    detail: { reason },
  }).catch((error: unknown) =>
    request.log.warn({ err: error }, 'could not audit a failed authentication'),
  );
}
