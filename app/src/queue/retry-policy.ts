/** The longest wait between two attempts, unless QUEUE_RETRY_DELAY itself is longer. */
const MAX_BACKOFF_SECONDS = 24 * 60 * 60;

/**
 * Exponential backoff: after attempt 1 wait `baseSeconds`, after attempt 2 twice that, and so on.
 * `baseSeconds` is QUEUE_RETRY_DELAY (whole seconds in config; tests may pass fractions).
 */
export function backoffSeconds(attempt: number, baseSeconds: number): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(baseSeconds * 2 ** exponent, Math.max(baseSeconds, MAX_BACKOFF_SECONDS));
}

/** QUEUE_RETRY_ATTEMPTS counts retries, so an email gets at most 1 + retryAttempts attempts. */
export function maxAttempts(retryAttempts: number): number {
  return retryAttempts + 1;
}
