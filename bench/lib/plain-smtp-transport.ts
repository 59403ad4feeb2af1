import nodemailer, { type Transporter } from 'nodemailer';
import { smtpTransportOptions } from '../../app/src/smtp/transport.js';

/** SelfMX's own pooled transport options (pool size, maxMessages, timeouts) on plain SMTP. */
export function createPlainSmtpTransport(
  host: string,
  port: number,
  poolSize: number,
): Transporter {
  return nodemailer.createTransport(
    smtpTransportOptions(
      {
        host,
        port,
        user: undefined,
        pass: undefined,
        tls: false,
        tlsVerify: false,
        timeoutSeconds: 30,
        poolSize,
      },
      true,
    ),
  );
}
