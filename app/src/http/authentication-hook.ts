import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { FailedAuthenticationLog } from '../audit/failed-authentication-log.js';
import { type ApiKeyIdentity, touchLastUsed } from '../auth/api-key-repository.js';
import { hashApiKey } from '../auth/api-key-secret.js';
import { hasPermission, OPERATOR_PERMISSIONS } from '../auth/permissions.js';
import type { HttpConfig } from '../config/app-config.js';
import type { Logger } from '../logger.js';
import { AuthFailureThrottle } from '../rate-limit/auth-failure-throttle.js';
import { KeyAuthenticator } from '../rate-limit/authenticate-and-count.js';
import { AuthenticatedKeys } from '../rate-limit/authenticated-keys.js';
import { RecentlyFailedKeys } from '../rate-limit/recently-failed-keys.js';
import { ApiError } from './api-error.js';
import { AuthenticationFailures } from './authentication-failures.js';
import { bearerToken } from './bearer-token.js';
import { clientAddress } from './client-address.js';
import { DeferredAuthentication } from './deferred-authentication.js';
import { type Authenticators, invalidKey, lookUpKey } from './key-lookup.js';
import { answerRateLimits, type RateLimitDecisions } from './rate-limit-reply.js';
import { ThrottledAddressGate } from './throttled-address-gate.js';
import './fastify-types.js';

/**
 * On every route that names a permission: authenticate the Bearer key (401, audited when it
 * fails; 429 once the client address has failed AUTH_FAILURE_LIMIT times this minute, its
 * unfamiliar keys still being looked up counted as failures), count the request against the
 * key's rate limit (429 with Retry-After), then check the permission (403). Runs before the body
 * is read, so rejected requests cost little; a throttled address's next requests are answered
 * by the ThrottledAddressGate before Fastify sees them. On a route whose accept statement
 * authenticates (`countsInAccept`), a key that authenticated moments ago is not looked up: the
 * statement checks it and counts the request (see deferred-authentication.ts).
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
    pool,
    authenticator,
    throttle,
    failedKeys: new RecentlyFailedKeys(),
    knownKeys: new AuthenticatedKeys(),
    failures,
    gate,
    keyRateLimit: {
      requests: http.rateLimitRequests,
      windowSeconds: http.rateLimitWindowSeconds,
    },
  };
  app.addHook('onClose', async () => failureLog.close());
  app.addHook('onRequest', async (request, reply) => {
    const permission = request.routeOptions.config.permission;
    if (!permission) return;
    const authentication = await authenticate(authenticators, request);
    if ('retryAfter' in authentication) {
      return authenticators.failures.sendThrottled(request, reply, authentication.retryAfter);
    }
    const { key } = authentication;
    request.apiKey = key;
    touchLastUsed(pool, key).catch((error: unknown) =>
      request.log.warn({ err: error }, 'could not record api key last use'),
    );
    if ('deferred' in authentication) {
      request.deferredAuthentication = authentication.deferred;
    } else {
      answerRateLimits(reply, authentication, http.rateLimitWindowSeconds);
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

/**
 * A live key with its request counted, a known key whose request the accept statement will
 * count, or the seconds a throttled address must wait.
 */
type Authentication =
  | ({ key: ApiKeyIdentity } & RateLimitDecisions)
  | { key: ApiKeyIdentity; deferred: DeferredAuthentication }
  | { retryAfter: number };

/**
 * The live key of the Bearer secret, with its request counted, or a 401 (thrown). A throttled
 * address with an unfamiliar key, a key that failed moments ago, and a key that authenticated
 * moments ago on a `countsInAccept` route need no database round trip.
 */
async function authenticate(
  auth: Authenticators,
  request: FastifyRequest,
): Promise<Authentication> {
  const { failures, failedKeys, gate } = auth;
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
  const presented = { address, hash, keyHex };
  const knownKey = request.routeOptions.config.countsInAccept
    ? auth.knownKeys.get(keyHex)
    : undefined;
  if (knownKey) {
    auth.throttle.recordSuccess(keyHex);
    return {
      key: knownKey,
      deferred: new DeferredAuthentication(auth, request, presented, knownKey),
    };
  }
  return lookUpKey(auth, request, presented);
}
