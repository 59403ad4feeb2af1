import type { FastifyReply } from 'fastify';
import type { RateLimitDecision } from '../rate-limit/rate-limiter.js';
import { ApiError } from './api-error.js';

/** A counted request's decisions: the key's, and its tenant's when the tenant has a limit. */
export interface RateLimitDecisions {
  readonly rateLimit: RateLimitDecision;
  readonly tenantRateLimit: RateLimitDecision | undefined;
}

/**
 * Sets the RateLimit-* headers of a counted request, and throws the 429 (with Retry-After) when
 * the key or its tenant is over its limit.
 */
export function answerRateLimits(
  reply: FastifyReply,
  { rateLimit, tenantRateLimit }: RateLimitDecisions,
  keyWindowSeconds: number,
): void {
  reply.header('ratelimit-limit', String(rateLimit.limit));
  reply.header('ratelimit-remaining', String(rateLimit.remaining));
  reply.header('ratelimit-reset', String(rateLimit.resetSeconds));
  if (!rateLimit.allowed) {
    throw new ApiError(
      429,
      'rate_limit_exceeded',
      `too many requests: this API key may make ${rateLimit.limit} requests per ${keyWindowSeconds} s; retry after ${rateLimit.resetSeconds} s`,
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
}
