/**
 * Resend's and Svix's schedule: the first attempt at once, then each retry this long after the
 * previous attempt, so 8 attempts over about 28 hours.
 */
const RETRY_DELAYS_SECONDS = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

export const MAX_WEBHOOK_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** ±10 %: endpoints that failed together are not retried in one burst. */
const JITTER = 0.1;

/**
 * Seconds until the next attempt after `attempts` failed ones, or undefined when they are used
 * up. `divisor` (WEBHOOK_RETRY_DIVISOR) shortens the schedule for tests and drills.
 */
export function nextRetrySeconds(
  attempts: number,
  divisor: number,
  random: () => number = Math.random,
): number | undefined {
  const delay = RETRY_DELAYS_SECONDS[attempts - 1];
  if (delay === undefined) return undefined;
  return (delay / divisor) * (1 + JITTER * (2 * random() - 1));
}
