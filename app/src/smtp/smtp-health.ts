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

const health: Omit<SmtpHealth, 'lastOkAt'> = {
  status: 'unknown',
  lastErrorAt: null,
  lastError: null,
};
// Every delivery records a contact: the time is kept as a number and formatted when read.
let lastOkAtMs: number | undefined;

export function smtpHealth(): Readonly<SmtpHealth> {
  return {
    status: health.status,
    lastOkAt: lastOkAtMs === undefined ? null : new Date(lastOkAtMs).toISOString(),
    lastErrorAt: health.lastErrorAt,
    lastError: health.lastError,
  };
}

export function recordSmtpOk(): void {
  health.status = 'ok';
  lastOkAtMs = Date.now();
}

export function recordSmtpUnreachable(description: string): void {
  health.status = 'unreachable';
  health.lastErrorAt = new Date().toISOString();
  health.lastError = description;
}
