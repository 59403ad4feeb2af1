import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type pg from 'pg';
import type { DatabaseSettings } from '../config/database-settings.js';
import { PreferSslSocket } from './prefer-ssl-socket.js';

/** The TLS part of a pg.ClientConfig. */
export type SslClientConfig = Pick<pg.ClientConfig, 'ssl' | 'stream'>;

/**
 * Maps sslmode (+ sslrootcert) to node-postgres options with libpq's meanings. pg itself would
 * treat require and verify-ca as verify-full, and has no prefer, so we always hand it an explicit
 * `ssl` (and, for prefer, a socket that negotiates TLS the way libpq does).
 */
export function sslClientConfig(
  settings: Pick<DatabaseSettings, 'sslmode' | 'sslrootcert'>,
): SslClientConfig {
  switch (settings.sslmode) {
    case 'disable':
      return { ssl: false };
    case 'prefer': {
      // pg sees a plain socket; the socket itself asks the server for TLS and falls back.
      const tls = tlsOptions(settings);
      return { ssl: false, stream: () => new PreferSslSocket(tls) };
    }
    case 'require':
    case 'verify-ca':
    case 'verify-full':
      return { ssl: tlsOptions(settings) };
  }
}

/** The TLS options for a mode that uses TLS (prefer, require, verify-ca, verify-full). */
export function tlsOptions(
  settings: Pick<DatabaseSettings, 'sslmode' | 'sslrootcert'>,
): ConnectionOptions {
  const ca = settings.sslrootcert === undefined ? undefined : readFileSync(settings.sslrootcert);
  if (ca === undefined) {
    // prefer/require without a CA: encrypted, but any certificate is accepted (libpq does the same).
    return { rejectUnauthorized: false };
  }
  if (settings.sslmode === 'verify-full') {
    // Node's default checkServerIdentity matches the host (DNS or IP SAN) as libpq does.
    return { ca, rejectUnauthorized: true };
  }
  // verify-ca, and require/prefer given a CA file (libpq verifies the chain then too):
  // the chain must lead to the CA, whatever host name the certificate names.
  return { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}
