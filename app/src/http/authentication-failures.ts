import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FailedAuthenticationLog } from '../audit/failed-authentication-log.js';
import type { Logger } from '../logger.js';
import {
  AUTH_FAILURE_WINDOW_SECONDS,
  type AuthFailureThrottle,
} from '../rate-limit/auth-failure-throttle.js';
import type { ApiError } from './api-error.js';
import { logAtDebug } from './request-log.js';
import type { ThrottleCheck, ThrottledAddressGate } from './throttled-address-gate.js';

export type FailureReason = 'missing' | 'malformed' | 'unknown' | 'revoked';

/**
 * Answers a failed or throttled authentication: counted against the client address, aggregated
 * into the audit log. A throttled request is answered without an Error (no stack trace), and
 * after the first one from an origin, by the ThrottledAddressGate before Fastify sees it; its
 * request line is logged at debug at most, so a flood costs little CPU and no log volume. One
 * warn line per address and minute says when the throttling starts.
 */
export class AuthenticationFailures implements ThrottleCheck {
  constructor(
    private readonly throttle: AuthFailureThrottle,
    private readonly log: FailedAuthenticationLog,
    private readonly logger: Logger,
    private readonly limit: number,
  ) {}

  retryAfterSeconds(address: string | undefined, keyHex?: string): number {
    return this.throttle.retryAfterSeconds(address, keyHex);
  }

  /**
   * Seconds the request must wait when its address is over AUTH_FAILURE_LIMIT and the key is
   * unfamiliar (audited as `throttled`, its origin handed to the gate), or 0.
   */
  throttledFor(
    request: FastifyRequest,
    address: string | undefined,
    keyHex: string | undefined,
    gate: ThrottledAddressGate,
  ): number {
    const retryAfter = this.throttle.retryAfterSeconds(address, keyHex);
    if (retryAfter === 0) return 0;
    this.audit(request, address, 'throttled');
    gate.remember(request, address);
    return retryAfter;
  }

  /** The 429 of a throttled request, in the error handler's shape. */
  sendThrottled(request: FastifyRequest, reply: FastifyReply, retryAfter: number): FastifyReply {
    logAtDebug(request);
    return reply
      .code(429)
      .header('retry-after', String(retryAfter))
      .type('application/json; charset=utf-8')
      .send(this.throttledBody(retryAfter));
  }

  /** Audits a request the gate answers 429, under the route `*`. */
  recordThrottled(address: string | undefined): void {
    this.log.record({
      reason: 'throttled',
      ip: address,
      route: '*',
      requestId: null,
      tenantId: null,
      actorKeyId: null,
    });
  }

  /** The same 429 as sendThrottled, straight on Node's response. */
  writeThrottled(response: ServerResponse, retryAfter: number, closing: boolean): void {
    const body = this.throttledBody(retryAfter);
    response.writeHead(429, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': String(retryAfter),
      ...(closing ? { connection: 'close' } : {}),
    });
    response.end(body);
  }

  private throttledBody(retryAfter: number): string {
    return JSON.stringify({
      statusCode: 429,
      name: 'rate_limit_exceeded',
      message: `Authorization: too many failed authentications from this address (AUTH_FAILURE_LIMIT: ${this.limit} per ${AUTH_FAILURE_WINDOW_SECONDS} s); retry after ${retryAfter} s`,
    });
  }

  /** Counts the failure against the address and returns the 401 to throw. */
  fail(
    request: FastifyRequest,
    address: string | undefined,
    reason: FailureReason,
    error: ApiError,
    known?: { id: string; tenantId: string },
  ): ApiError {
    if (this.throttle.recordFailure(address)) {
      this.logger.warn(
        { ip: address ?? null, limit: this.limit },
        `failed authentications from this address reached AUTH_FAILURE_LIMIT; its unfamiliar keys get 429 until the ${AUTH_FAILURE_WINDOW_SECONDS} s window ends`,
      );
    }
    this.audit(request, address, reason, known);
    return error;
  }

  private audit(
    request: FastifyRequest,
    address: string | undefined,
    reason: string,
    known?: { id: string; tenantId: string },
  ): void {
    this.log.record({
      reason,
      ip: address,
      route: `${request.method} ${request.routeOptions.url}`,
      requestId: request.id,
      tenantId: known?.tenantId ?? null,
      actorKeyId: known?.id ?? null,
    });
  }
}
