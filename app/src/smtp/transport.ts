import { isIP } from 'node:net';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpConfig } from '../config/app-config.js';
import { coalesceMessageChunks } from './coalesced-message.js';

export type SmtpTransport = Transporter;

/**
 * nodemailer options from SMTP_*: implicit TLS on port 465, STARTTLS required on any other port,
 * or plain SMTP when SMTP_TLS=false. SMTP_TIMEOUT bounds the connection, the greeting and socket
 * inactivity. Message content never names files or URLs for nodemailer to fetch.
 */
export function smtpTransportOptions(config: SmtpConfig, pooled: boolean) {
  const implicitTls = config.tls && config.port === 465;
  const timeout = config.timeoutSeconds * 1000;
  return {
    pool: pooled,
    host: config.host,
    port: config.port,
    secure: implicitTls,
    requireTLS: config.tls && !implicitTls,
    ignoreTLS: !config.tls,
    // SNI takes a host name only; for an IP address the certificate must name the IP.
    tls: {
      rejectUnauthorized: config.tlsVerify,
      ...(isIP(config.host) ? {} : { servername: config.host }),
    },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
    ...(pooled ? { maxConnections: config.poolSize, maxMessages: 100 } : {}),
    ...(config.user ? { auth: { user: config.user, pass: config.pass ?? '' } } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The pooled transport the queue workers deliver through (at most SMTP_POOL_SIZE connections). */
export function createSmtpTransport(config: SmtpConfig): SmtpTransport {
  const transport = nodemailer.createTransport(smtpTransportOptions(config, true));
  coalesceMessageChunks(transport);
  return transport;
}

/** Open connections of a pooled transport, read from nodemailer's pool (0 if unavailable). */
export function openConnections(transport: SmtpTransport): number {
  // nodemailer exposes no public counter; its pool keeps live connections in `_connections`.
  const pool = (transport as unknown as { transporter?: { _connections?: unknown[] } }).transporter;
  return Array.isArray(pool?._connections) ? pool._connections.length : 0;
}
