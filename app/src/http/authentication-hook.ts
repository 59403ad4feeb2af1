import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { FailedAuthenticationLog } from '../audit/failed-authentication-log.js';
import { type ApiKeyIdentity, touchLastUsed } from '../auth/api-key-repository.js';
import { hashApiKey, sameHash } from '../auth/api-key-secret.js';
import { hasPermission, OPERATOR_PERMISSIONS } from '../auth/permissions.js';
import type { HttpConfig } from '../config/app-config.js';
import type { Logger } from '../logger.js';
import { AuthFailureThrottle } from '../rate-limit/auth-failure-throttle.js';
import { KeyAuthenticator } from '../rate-limit/authenticate-and-count.js';
import type { RateLimitDecision } from '../rate-limit/rate-limiter.js';
import { ApiError } from './api-error.js';
import { AuthenticationFailures } from './authentication-failures.js';
import './fastify-types.js';

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

/**
 * On every route that names a permission: authenticate the Bearer key (401, audited when it
 * fails; 429 once the client address has failed AUTH_FAILURE_LIMIT times this minute), count
 * the request against the key's rate limit (429 with Retry-After), then check the permission
 * (403). Runs before the body is read, so rejected requests cost little.
 */
export function registerAuthentication(
  app: FastifyInstance,
  pool: pg.Pool,
  http: HttpConfig,
  logger: Logger,
): void {
  const authenticator = new KeyAuthenticator(
    pool,
    http.rateLimitRequests,
    http.rateLimitWindowSeconds,
  );
  const throttle = new AuthFailureThrottle(http.authFailureLimit);
  const failureLog = new FailedAuthenticationLog(pool, logger);
  const failures = new AuthenticationFailures(throttle, failureLog, http.authFailureLimit);
  app.addHook('onClose', async () => failureLog.close());
  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const { key, rateLimit, tenantRateLimit } = await authenticate(
      authenticator,
      failures,
      throttle,
      request,
    );
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
    if (tenantRateLimit && !tenantRateLimit.allowed) {
      reply.header('ratelimit-limit', String(tenantRateLimit.limit));
      reply.header('ratelimit-remaining', '0');
      reply.header('ratelimit-reset', String(tenantRateLimit.resetSeconds));
      throw new ApiError(
        429,
        'rate_limit_exceeded',
        `too many requests: this API key's tenant may make ${tenantRateLimit.limit} requests per window across all its keys; retry after ${tenantRateLimit.resetSeconds} s`,
        { 'retry-after': String(tenantRateLimit.resetSeconds) },
      );
    }
    if (OPERATOR_PERMISSIONS.includes(permission) && !key.isOperatorTenant) {
      throw new ApiError(
        403,
        'restricted_api_key',
        `the "${permission}" permission needed for ${request.method} ${request.routeOptions.url} is only for keys of the operator's tenant (the one API_KEY belongs to)`,
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

/** The live key of the Bearer secret, with its request counted, or a 401 (or 429). */
async function authenticate(
  authenticator: KeyAuthenticator,
  failures: AuthenticationFailures,
  throttle: AuthFailureThrottle,
  request: FastifyRequest,
): Promise<{
  key: ApiKeyIdentity;
  rateLimit: RateLimitDecision;
  tenantRateLimit: RateLimitDecision | undefined;
}> {
  const header = request.headers.authorization;
  if (!header) {
    failures.refuseIfThrottled(request);
    throw failures.fail(
      request,
      'missing',
      new ApiError(
        401,
        'missing_api_key',
        'Authorization: missing API key; send "Authorization: Bearer <key>"',
      ),
    );
  }
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    failures.refuseIfThrottled(request);
    throw failures.fail(
      request,
      'malformed',
      new ApiError(401, 'invalid_api_key', 'Authorization: expected "Bearer <key>"'),
    );
  }
  const hash = hashApiKey(token);
  failures.refuseIfThrottled(request, hash);
  const found = await authenticator.lookup(hash);
  if (found.kind === 'tenant_disabled' && sameHash(found.key.keyHash, hash)) {
    throttle.recordSuccess(hash);
    throw new ApiError(
      403,
      'tenant_disabled',
      "this API key's tenant is disabled; its emails are held until the operator enables it again (PATCH /v1/tenants/{id})",
    );
  }
  if (found.kind !== 'live' || !sameHash(found.key.keyHash, hash)) {
    const known = found.kind === 'revoked' ? found : undefined;
    throw failures.fail(
      request,
      known ? 'revoked' : 'unknown',
      new ApiError(401, 'invalid_api_key', 'Authorization: API key is invalid or revoked'),
      known,
    );
  }
  throttle.recordSuccess(hash);
  return { key: found.key, rateLimit: found.rateLimit, tenantRateLimit: found.tenantRateLimit };
}
