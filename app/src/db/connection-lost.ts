/** pg's own error when a statement got no answer within query_timeout (see appSessionLimits). */
export const QUERY_READ_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * True when the connection a statement ran on can no longer be trusted: no answer within the
 * client's limit, or the socket closed or failed. Such a connection is closed, never reused.
 */
export function isConnectionLost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^(ECONNRESET|EPIPE|ETIMEDOUT|08\w{3}|57P0[1-3])$/.test(code)) {
    return true;
  }
  return (
    error.message === QUERY_READ_TIMEOUT_MESSAGE ||
    /Connection terminated|Client has encountered a connection error|not queryable/i.test(
      error.message,
    )
  );
}
