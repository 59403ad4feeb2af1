import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyIdentity } from '../auth/api-key-repository.js';
import type { AcceptResult } from '../emails/accept-email.js';
import { rateLimitDecision, tenantRateLimitDecision } from '../rate-limit/rate-limiter.js';
import { type Authenticators, lookUpKey, type PresentedKey, refuseKey } from './key-lookup.js';
import { answerRateLimits, type RateLimitDecisions } from './rate-limit-reply.js';

/**
 * A send whose key authenticated moments ago on this instance: its body is read without a
 * lookup, and the accept statement checks the key again and counts the request, so a known key
 * costs one round trip. A request that ends before its accept statement ran (a 4xx on its body,
 * a missing permission) is looked up and counted when it is answered, so every request counts
 * against the rate limits and a revoked key, a disabled tenant or a 429 still come first.
 */
export class DeferredAuthentication {
  private settled = false;

  constructor(
    private readonly auth: Authenticators,
    private readonly request: FastifyRequest,
    private readonly presented: PresentedKey,
    private readonly key: ApiKeyIdentity,
  ) {}

  /** Not yet counted: neither the accept statement nor settleBeforeError has run. */
  get pending(): boolean {
    return !this.settled;
  }

  /** The presented key's hash, for the accept statement to authenticate. */
  get keyHash(): Buffer {
    return this.presented.hash;
  }

  /**
   * Applies what the accept statement found: a 401 (revoked) or 403 (tenant disabled) thrown,
   * the RateLimit-* headers set, and the 429 thrown when the request was over a limit.
   */
  settleAccept(result: AcceptResult, reply: FastifyReply): void {
    if (result.kind === 'invalid') return;
    this.settled = true;
    if (result.kind === 'key_refused') {
      throw refuseKey(this.auth, this.request, this.presented, this.key, result.reason);
    }
    const { counted } = result;
    if (!counted) throw new Error('the accept statement did not count an authenticated send');
    const { pool } = this.auth;
    const decisions: RateLimitDecisions = {
      rateLimit: rateLimitDecision(
        pool,
        this.key.id,
        counted.key,
        this.auth.keyRateLimit.requests,
        this.auth.keyRateLimit.windowSeconds,
      ),
      tenantRateLimit:
        counted.tenant === null
          ? undefined
          : tenantRateLimitDecision(
              pool,
              this.key.tenantId,
              counted.tenant,
              counted.tenant.limit,
              counted.tenant.windowSeconds,
            ),
    };
    answerRateLimits(reply, decisions, this.auth.keyRateLimit.windowSeconds);
    if (result.kind === 'rate_limited') {
      throw new Error('the accept statement refused a send its rate limits allow');
    }
  }

  /** For a request answered with an error before its accept statement ran: looks up and counts. */
  async settleBeforeError(reply: FastifyReply): Promise<void> {
    this.settled = true;
    const found = await lookUpKey(this.auth, this.request, this.presented);
    answerRateLimits(reply, found, this.auth.keyRateLimit.windowSeconds);
  }
}
