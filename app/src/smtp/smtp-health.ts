/**
 * The SMTP relay's health as this process last saw it, for GET /health: updated by every
 * delivery attempt and every verify. A relay that answers (even with a refusal) is `ok`;
 * `unreachable` means connecting, TLS or logging in failed. `unknown` until the first contact.
 */
export interface SmtpHealth {
  status: 'unknown' | 'ok' | 'unreachable';
  /** ISO time of the last successful contact. */
  lastOkAt: string | null;
  /** ISO time and description of the last connection failure. */
  lastErrorAt: string | null;
  lastError: string | null;
}

const health: SmtpHealth = {
  status: 'unknown',
  lastOkAt: null,
  lastErrorAt: null,
  lastError: null,
};

export function smtpHealth(): Readonly<SmtpHealth> {
  return { ...health };
}

export function recordSmtpOk(): void {
  health.status = 'ok';
  health.lastOkAt = new Date().toISOString();
}

export function recordSmtpUnreachable(description: string): void {
  health.status = 'unreachable';
  health.lastErrorAt = new Date().toISOString();
  health.lastError = description;
}
