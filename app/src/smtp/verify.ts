import nodemailer from 'nodemailer';
import type { SmtpConfig } from '../config/app-config.js';
import { asSmtpFailure, describeSmtpFailure } from './smtp-errors.js';
import { recordSmtpOk, recordSmtpUnreachable } from './smtp-health.js';
import { smtpTransportOptions } from './transport.js';

export type SmtpVerifyResult =
  | { ok: true; host: string; port: number; durationMs: number }
  | { ok: false; host: string; port: number; durationMs: number; error: string };

/**
 * Connects to the relay with the configured TLS and credentials and says whether it would accept
 * mail (POST /v1/test-smtp). Uses a one-off connection so it never waits behind queued sends.
 * The error text is the relay's reply or the network error; it never contains SMTP_PASS.
 */
export async function verifySmtp(config: SmtpConfig): Promise<SmtpVerifyResult> {
  const transport = nodemailer.createTransport(smtpTransportOptions(config, false));
  const started = performance.now();
  const where = { host: config.host, port: config.port };
  try {
    await transport.verify();
    recordSmtpOk();
    return { ok: true, ...where, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const description = redact(describeSmtpFailure(asSmtpFailure(error)), config.pass);
    recordSmtpUnreachable(description);
    return {
      ok: false,
      ...where,
      durationMs: Math.round(performance.now() - started),
      error: description,
    };
  } finally {
    transport.close();
  }
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('[redacted]') : text;
}
