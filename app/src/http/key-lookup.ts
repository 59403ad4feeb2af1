import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import { sameHash } from '../auth/api-key-secret.js';
import type { AuthFailureThrottle } from '../rate-limit/auth-failure-throttle.js';
import type { KeyAuthenticator } from '../rate-limit/authenticate-and-count.js';
import type { AuthenticatedKeys } from '../rate-limit/authenticated-keys.js';
import type { KeyRateLimit } from '../rate-limit/rate-limiter.js';
import type { RecentlyFailedKeys } from '../rate-limit/recently-failed-keys.js';
import { ApiError } from './api-error.js';
import type { AuthenticationFailures } from './authentication-failures.js';
import type { RateLimitDecisions } from './rate-limit-reply.js';
import type { ThrottledAddressGate } from './throttled-address-gate.js';

/** What authenticating a request needs, shared by every request of the server. */
export interface Authenticators {
  readonly pool: pg.Pool;
  readonly authenticator: KeyAuthenticator;
  readonly throttle: AuthFailureThrottle;
  readonly failedKeys: RecentlyFailedKeys;
  readonly knownKeys: AuthenticatedKeys;
  readonly failures: AuthenticationFailures;
  readonly gate: ThrottledAddressGate;
  readonly keyRateLimit: KeyRateLimit;
}

/** The key presented by a request: its hash, as bytes and hex. */
export interface PresentedKey {
  readonly address: string | undefined;
  readonly hash: Buffer;
  readonly keyHex: string;
}

/**
 * Looks the presented key up and counts the request, in one (batched) round trip: the live key
 * with its rate-limit decisions, remembered as authenticated; otherwise a 401 (revoked or
 * unknown, audited and remembered as failed) or a 403 (tenant disabled) is thrown.
 */
export async function lookUpKey(
  auth: Authenticators,
  request: FastifyRequest,
  presented: PresentedKey,
): Promise<{ key: ApiKeyIdentity } & RateLimitDecisions> {
  const { throttle, authenticator, knownKeys } = auth;
  const { address, hash, keyHex } = presented;
  const release = throttle.isKnown(keyHex) ? undefined : throttle.beginLookup(address, keyHex);
  try {
    const found = await authenticator.lookup(hash);
    if (found.kind === 'tenant_disabled' && sameHash(found.key.keyHash, hash)) {
      throttle.recordSuccess(keyHex);
      throw refuseKey(auth, request, presented, found.key, 'tenant_disabled');
    }
    if (found.kind !== 'live' || !sameHash(found.key.keyHash, hash)) {
      const known = found.kind === 'revoked' ? found : undefined;
      auth.failedKeys.remember(keyHex, known ?? { kind: 'unknown' });
      throw auth.failures.fail(
        request,
        address,
        known ? 'revoked' : 'unknown',
        invalidKey(),
        known,
      );
    }
    throttle.recordSuccess(keyHex);
    knownKeys.remember(keyHex, found.key);
    return { key: found.key, rateLimit: found.rateLimit, tenantRateLimit: found.tenantRateLimit };
  } finally {
    release?.();
  }
}

/**
 * The error for a key found revoked or its tenant disabled after it authenticated: it is
 * forgotten as authenticated, and a revoked key is audited and remembered as failed.
 */
export function refuseKey(
  auth: Authenticators,
  request: FastifyRequest,
  { address, keyHex }: PresentedKey,
  key: Pick<ApiKeyIdentity, 'id' | 'tenantId'>,
  reason: 'revoked' | 'tenant_disabled',
): ApiError {
  auth.knownKeys.forget(keyHex);
  if (reason === 'tenant_disabled') {
    return new ApiError(
      403,
      'tenant_disabled',
      "this API key's tenant is disabled; its emails are held until the operator enables it again (PATCH /v1/tenants/{id})",
    );
  }
  const known = { kind: 'revoked' as const, id: key.id, tenantId: key.tenantId };
  auth.failedKeys.remember(keyHex, known);
  return auth.failures.fail(request, address, 'revoked', invalidKey(), known);
}

export function invalidKey(): ApiError {
  return new ApiError(401, 'invalid_api_key', 'Authorization: API key is invalid or revoked');
}
