/**
 * When a transient failure is retried, and when the queue gives up (docs/delivery.md#retry-policy).
 * Retries are bounded by age: an email keeps trying through an unreachable relay or a refused
 * login until it has been trying for `maxAgeSeconds`. Only the attempts the relay answered with
 * a 4xx count toward `retryAttempts`.
 */
export interface RetryPolicy {
  /** QUEUE_RETRY_ATTEMPTS: 4xx answers retried; the next one fails the email. */
  readonly retryAttempts: number;
  /** QUEUE_RETRY_DELAY: the first wait; doubles with each attempt. */
  readonly retryDelaySeconds: number;
  /** QUEUE_MAX_RETRY_DELAY: the longest wait (unless QUEUE_RETRY_DELAY is longer). */
  readonly maxRetryDelaySeconds: number;
  /** QUEUE_MAX_AGE: how long after its first attempt an email is still retried. */
  readonly maxAgeSeconds: number;
  /** QUEUE_DELAY_NOTICE: a wait past this emits `delivery_delayed`, once per email. */
  readonly delayNoticeSeconds: number;
}

/**
 * Exponential backoff: after attempt 1 wait `retryDelaySeconds`, after attempt 2 twice that, and
 * so on, capped at `maxRetryDelaySeconds`. Fractions of a second are allowed (tests).
 */
export function backoffSeconds(attempt: number, policy: RetryPolicy): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 52);
  const cap = Math.max(policy.retryDelaySeconds, policy.maxRetryDelaySeconds);
  return Math.min(policy.retryDelaySeconds * 2 ** exponent, cap);
}

/** QUEUE_RETRY_ATTEMPTS counts retries, so the relay may answer 4xx 1 + retryAttempts times. */
export function maxRelayDeferrals(retryAttempts: number): number {
  return retryAttempts + 1;
}

/** Where an email stands after an attempt that left some recipient deferred. */
export type RetryDecision =
  | {
      readonly retry: true;
      readonly retryInSeconds: number;
      /** True when this wait takes the email past the notice threshold for the first time. */
      readonly delayNotice: boolean;
    }
  | { readonly retry: false; readonly reason: string };

export interface RetryState {
  /** Claims of this round, this one included. */
  readonly attempts: number;
  /** Attempts the relay answered with a 4xx, this one included. */
  readonly relayDeferrals: number;
  /** The first claim of this round. */
  readonly attemptingSince: Date;
  /** Whether `delivery_delayed` was already emitted for this email. */
  readonly delayNoticeSent: boolean;
  readonly now: Date;
}

export function decideRetry(policy: RetryPolicy, state: RetryState): RetryDecision {
  if (state.relayDeferrals >= maxRelayDeferrals(policy.retryAttempts)) {
    return {
      retry: false,
      reason: `gave up after ${state.relayDeferrals} attempts answered with 4xx (QUEUE_RETRY_ATTEMPTS=${policy.retryAttempts})`,
    };
  }
  const waitedSeconds = (state.now.getTime() - state.attemptingSince.getTime()) / 1000;
  const ageLeft = policy.maxAgeSeconds - waitedSeconds;
  if (ageLeft <= 0) {
    return {
      retry: false,
      reason: `gave up after trying for ${describeSeconds(waitedSeconds)} (QUEUE_MAX_AGE=${policy.maxAgeSeconds})`,
    };
  }
  // The last attempt lands at QUEUE_MAX_AGE rather than a whole backoff before it.
  const retryInSeconds = Math.min(backoffSeconds(state.attempts, policy), ageLeft);
  const delayNotice =
    !state.delayNoticeSent && waitedSeconds + retryInSeconds >= policy.delayNoticeSeconds;
  return { retry: true, retryInSeconds, delayNotice };
}

export function describeSeconds(seconds: number): string {
  if (seconds >= 7200) return `${Math.round(seconds / 3600)} h`;
  if (seconds >= 120) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}
