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

/** Codes that only say which SMTP stage refused: the reply itself says it all. */
const STAGE_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * One line for email_events.smtp_response / last_error: the relay's reply, with nodemailer's code
 * when it adds something (e.g. `500 command not recognized (ETLS)`), or the network error.
 */
export function describeSmtpFailure(error: SmtpFailure): string {
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
  const code = error.code && !STAGE_CODES.has(error.code) ? error.code : undefined;
  const text = error.response
    ? `${oneLine(error.response)}${code ? ` (${code})` : ''}`
    : `${code ? `${code}: ` : ''}${oneLine(error.message)}`;
  return text.slice(0, 1000);
}

export function asSmtpFailure(error: unknown): SmtpFailure {
  if (error instanceof Error) return error as Error & SmtpFailure;
  return { message: String(error) };
}
