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
import { RecentlyFailedKeys } from '../rate-limit/recently-failed-keys.js';
import { ApiError } from './api-error.js';
import { AuthenticationFailures } from './authentication-failures.js';
import { bearerToken } from './bearer-token.js';
import { clientAddress } from './client-address.js';
import { ThrottledAddressGate } from './throttled-address-gate.js';
import './fastify-types.js';

interface Authenticators {
  readonly authenticator: KeyAuthenticator;
  readonly throttle: AuthFailureThrottle;
  readonly failedKeys: RecentlyFailedKeys;
  readonly failures: AuthenticationFailures;
  readonly gate: ThrottledAddressGate;
}

/**
 * On every route that names a permission: authenticate the Bearer key (401, audited when it
 * fails; 429 once the client address has failed AUTH_FAILURE_LIMIT times this minute, its
 * unfamiliar keys still being looked up counted as failures), count the request against the
 * key's rate limit (429 with Retry-After), then check the permission (403). Runs before the body
 * is read, so rejected requests cost little; a throttled address's next requests are answered
 * by the ThrottledAddressGate before Fastify sees them.
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
  const failures = new AuthenticationFailures(throttle, failureLog, logger, http.authFailureLimit);
  const gate = new ThrottledAddressGate(failures, http.trustProxy !== false);
  gate.install(app);
  const authenticators: Authenticators = {
    authenticator,
    throttle,
    failedKeys: new RecentlyFailedKeys(),
    failures,
    gate,
  };
  app.addHook('onClose', async () => failureLog.close());
  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const authentication = await authenticate(authenticators, request);
    if ('retryAfter' in authentication) {
      return authenticators.failures.sendThrottled(request, reply, authentication.retryAfter);
    }
    const { key, rateLimit, tenantRateLimit } = authentication;
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

/** A live key with its request counted, or the seconds a throttled address must wait. */
type Authentication =
  | {
      key: ApiKeyIdentity;
      rateLimit: RateLimitDecision;
      tenantRateLimit: RateLimitDecision | undefined;
    }
  | { retryAfter: number };

/**
 * The live key of the Bearer secret, with its request counted, or a 401 (thrown). A throttled
 * address with an unfamiliar key, and a key that failed moments ago, need no database round trip.
 */
async function authenticate(
  { authenticator, failures, throttle, failedKeys, gate }: Authenticators,
  request: FastifyRequest,
): Promise<Authentication> {
  const address = clientAddress(request);
  const header = request.headers.authorization;
  const token = bearerToken(header);
  const hash = token ? hashApiKey(token) : undefined;
  const keyHex = hash?.toString('hex');
  const retryAfter = failures.throttledFor(request, address, keyHex, gate);
  if (retryAfter > 0) return { retryAfter };
  if (!header) {
    throw failures.fail(
      request,
      address,
      'missing',
      new ApiError(
        401,
        'missing_api_key',
        'Authorization: missing API key; send "Authorization: Bearer <key>"',
      ),
    );
  }
  if (!hash || !keyHex) {
    throw failures.fail(
      request,
      address,
      'malformed',
      new ApiError(401, 'invalid_api_key', 'Authorization: expected "Bearer <key>"'),
    );
  }
  const remembered = failedKeys.get(keyHex);
  if (remembered) {
    const known = remembered.kind === 'revoked' ? remembered : undefined;
    throw failures.fail(request, address, remembered.kind, invalidKey(), known);
  }
  const release = throttle.isKnown(keyHex) ? undefined : throttle.beginLookup(address, keyHex);
  try {
    const found = await authenticator.lookup(hash);
    if (found.kind === 'tenant_disabled' && sameHash(found.key.keyHash, hash)) {
      throttle.recordSuccess(keyHex);
      throw new ApiError(
        403,
        'tenant_disabled',
        "this API key's tenant is disabled; its emails are held until the operator enables it again (PATCH /v1/tenants/{id})",
      );
    }
    if (found.kind !== 'live' || !sameHash(found.key.keyHash, hash)) {
      const known = found.kind === 'revoked' ? found : undefined;
      failedKeys.remember(keyHex, known ?? { kind: 'unknown' });
      throw failures.fail(request, address, known ? 'revoked' : 'unknown', invalidKey(), known);
    }
    throttle.recordSuccess(keyHex);
    return { key: found.key, rateLimit: found.rateLimit, tenantRateLimit: found.tenantRateLimit };
  } finally {
    release?.();
  }
}

function invalidKey(): ApiError {
  return new ApiError(401, 'invalid_api_key', 'Authorization: API key is invalid or revoked');
}
