/** What nodemailer attaches to a failed send. */
export interface SmtpFailure {
  readonly code?: string;
  readonly responseCode?: number;
  readonly response?: string;
  readonly message: string;
}

/**
 * How the queue treats a failed send:
 * - `permanent`: the relay refused the message with a 5xx reply (bounced, no retry);
 * - `transient`: timeouts, connection and TLS errors, 4xx replies, authentication trouble (the
 *   relay or our credentials may be fixed) — retried with backoff;
 * - `invalid`: the message itself cannot be built; retrying cannot help (failed, no retry).
 */
export type SmtpFailureKind = 'permanent' | 'transient' | 'invalid';

/** Errors about our credentials or TLS, not about the message: never a bounce. */
const CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'ETLS', 'EREQUIRETLS', 'ECONFIG']);
const INVALID_MESSAGE_CODES = new Set(['EFILEACCESS', 'EURLACCESS', 'ESTREAM']);

export function classifySmtpFailure(error: SmtpFailure): SmtpFailureKind {
  if (error.code && CONFIGURATION_CODES.has(error.code)) return 'transient';
  if (error.code && INVALID_MESSAGE_CODES.has(error.code)) return 'invalid';
  const reply = error.responseCode;
  if (reply !== undefined && reply >= 500 && reply < 600) return 'permanent';
  return 'transient';
}

/** True when the relay could not be reached or talked to at all (an outage, not a refusal). */
export function isConnectionFailure(error: SmtpFailure): boolean {
  return error.responseCode === undefined || CONFIGURATION_CODES.has(error.code ?? '');
}

/** One line for email_events.smtp_response / last_error: the relay's reply or the error. */
export function describeSmtpFailure(error: SmtpFailure): string {
  const text = error.response ?? error.message;
  const line = text.replace(/\s+/g, ' ').trim();
  return (error.code && !error.response ? `${error.code}: ${line}` : line).slice(0, 1000);
}

export function asSmtpFailure(error: unknown): SmtpFailure {
  if (error instanceof Error) return error as Error & SmtpFailure;
  return { message: String(error) };
}
