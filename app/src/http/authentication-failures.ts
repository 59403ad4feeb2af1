import type { FastifyRequest } from 'fastify';
import type { FailedAuthenticationLog } from '../audit/failed-authentication-log.js';
import {
  AUTH_FAILURE_WINDOW_SECONDS,
  type AuthFailureThrottle,
} from '../rate-limit/auth-failure-throttle.js';
import { ApiError } from './api-error.js';
import { clientAddress } from './client-address.js';

/** Answers a failed or throttled authentication: counted, aggregated into the audit log. */
export class AuthenticationFailures {
  constructor(
    private readonly throttle: AuthFailureThrottle,
    private readonly log: FailedAuthenticationLog,
    private readonly limit: number,
  ) {}

  /** A 429 when the request's address is over AUTH_FAILURE_LIMIT and the key is unfamiliar. */
  refuseIfThrottled(request: FastifyRequest, keyHash?: Buffer): void {
    const address = clientAddress(request);
    const retryAfter = this.throttle.retryAfterSeconds(address, keyHash);
    if (retryAfter === 0) return;
    this.audit(request, 'throttled');
    throw new ApiError(
      429,
      'rate_limit_exceeded',
      `Authorization: too many failed authentications from this address (AUTH_FAILURE_LIMIT: ${this.limit} per ${AUTH_FAILURE_WINDOW_SECONDS} s); retry after ${retryAfter} s`,
      { 'retry-after': String(retryAfter) },
    );
  }

  /** Counts the failure against the address and returns the 401 to throw. */
  fail(
    request: FastifyRequest,
    reason: 'missing' | 'malformed' | 'unknown' | 'revoked',
    error: ApiError,
    known?: { id: string; tenantId: string },
  ): ApiError {
    this.throttle.recordFailure(clientAddress(request));
    this.audit(request, reason, known);
    return error;
  }

  private audit(
    request: FastifyRequest,
    reason: string,
    known?: { id: string; tenantId: string },
  ): void {
    this.log.record({
      reason,
      ip: clientAddress(request),
      route: `${request.method} ${request.routeOptions.url}`,
      requestId: request.id,
      tenantId: known?.tenantId ?? null,
      actorKeyId: known?.id ?? null,
    });
  }
}
