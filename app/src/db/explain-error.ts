import type { DatabaseSettings } from '../config/database-settings.js';
import { APP_ROLE, isAppRoleUser } from './app-role.js';
import { QUERY_READ_TIMEOUT_MESSAGE } from './connection-lost.js';
import { CLIENT_TIMEOUT_MARGIN_MS, LOCK_WAIT_FIX } from './session-limits.js';

/** The parts of pg, Node socket and TLS errors that tell the cases apart. */
interface ErrorFacts {
  code: string;
  message: string;
  /** The subjectAltName of the server certificate, for host name mismatches. */
  certificateNames?: string;
}

type Settings = Pick<
  DatabaseSettings,
  'host' | 'port' | 'database' | 'user' | 'password' | 'sslmode' | 'sslrootcert' | 'poolSize'
> &
  Partial<Pick<DatabaseSettings, 'poolTimeoutSeconds'>>;

/** Node's codes for a certificate chain that does not lead to the CA we trust. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * Operator-facing text for a database failure: what happened, against which server, and what to
 * change. Covers the cases of docs/troubleshooting.md; anything else keeps the driver's
 * message. The password never appears, even if a driver message were to contain it.
 */
export function explainDatabaseError(error: unknown, settings: Settings): string {
  const facts = factsOf(error);
  const where = `PostgreSQL at ${settings.host}:${settings.port} (database "${settings.database}", user "${settings.user}", sslmode=${settings.sslmode})`;
  // Only the driver's message is scrubbed: our own text never holds the password, and scrubbing
  // it would mangle words when the password is a common one (e.g. "password").
  return `${describe(facts, settings, where)} [${facts.code || 'error'}: ${scrub(facts.message, settings.password)}]`;
}

function describe(facts: ErrorFacts, settings: Settings, where: string): string {
  const { code, message, certificateNames } = facts;
  const caFile = settings.sslrootcert ? `sslrootcert=${settings.sslrootcert}` : 'no sslrootcert';
  switch (true) {
    case code === 'ECONNREFUSED':
      return `Connection refused by ${where}: is PostgreSQL running and listening on that host and port (listen_addresses, port)? Check host and port in DATABASE_URL; from a container use the database service name on the shared Docker network, not localhost; check firewalls and security groups.`;
    case code === 'ENOTFOUND' || code === 'EAI_AGAIN':
      return `The host name "${settings.host}" in DATABASE_URL does not resolve (${where}): check the spelling, the DNS, and that the app is on the same Docker network as the database.`;
    case code === 'ETIMEDOUT' ||
      code === 'EHOSTUNREACH' ||
      code === 'ENETUNREACH' ||
      /timeout expired|connection timeout/i.test(message):
      return `No answer from ${where} within DB_POOL_TIMEOUT: the host is unreachable or the port is filtered. Check host and port in DATABASE_URL, that PostgreSQL is running, and the Docker network, firewall or security group between the app and the database.`;
    case /timeout exceeded when trying to connect/i.test(message):
      return `Timed out waiting for a free database connection: all DB_POOL_SIZE=${settings.poolSize} connections to ${where} stayed busy for pool_timeout=${settings.poolTimeoutSeconds ?? '?'}s. Raise DB_POOL_SIZE (or pool_size in DATABASE_URL) if PostgreSQL has room, raise DB_POOL_TIMEOUT, or look for slow queries holding connections.`;
    case /client password must be a string/i.test(message):
      return `${where} asks for a password, but DATABASE_URL has none and PGPASSWORD is not set: put the password in DATABASE_URL (postgres://user:password@host/db) or provide PGPASSWORD (on AWS the task definition injects it from the RDS-managed secret).`;
    case code === '28P01' && isAppRoleUser(settings.user):
      return `Password authentication failed for "${settings.user}", a login role of the application role ${APP_ROLE}, at ${where}: its password was changed after this process started. Connections already open keep working; new ones are refused until the service runs with the new password. A rotation must set the new password on the other member (switch APP_DB_USER, and DATABASE_URL's user with it; on AWS flip SELFMX_APP_DB_USER) so that running processes keep theirs; now run \`selfmx migrate\` with APP_DB_USER and APP_DB_PASSWORD matching this service's DATABASE_URL, or restart it with the new ones (a release does both).`;
    case code === '28P01':
      return `Password authentication failed for user "${settings.user}" at ${where}: check the user name and password in DATABASE_URL (percent-encode special characters such as @ : / ? # %) and the role's password on the server.`;
    case code === '28000' && /no pg_hba\.conf entry/i.test(message):
      return noHbaEntry(message, where);
    case code === '28000':
      return `The server refused user "${settings.user}" at ${where}: check that the role exists and may log in, and the pg_hba.conf rules for this host, user and database.`;
    case code === '3D000':
      return `Database "${settings.database}" does not exist on ${where}: create it (CREATE DATABASE ${settings.database}) or fix the database name in the path of DATABASE_URL.`;
    case code === '53300':
      return `Too many connections at ${where}: the server's max_connections is used up (some slots are reserved for superusers). Each SelfMX process opens up to DB_POOL_SIZE=${settings.poolSize} connections, so keep DB_POOL_SIZE x processes below max_connections minus superuser_reserved_connections: lower DB_POOL_SIZE, raise max_connections, or look for other clients holding connections.`;
    case code === '57P01' || code === '57P02' || /terminated unexpectedly/i.test(message):
      return `${where} closed the connection (server restart, failover or pg_terminate_backend): the pool opens a new connection on next use; if this repeats, check the server log.`;
    case code === '55P03':
      return `A lock wait timed out at ${where}: another session held a lock this statement needed for longer than lock_timeout (for migrations, DB_MIGRATION_LOCK_TIMEOUT). ${LOCK_WAIT_FIX}`;
    case code === '57014' && /statement timeout/i.test(message):
      return `A statement ran longer than DB_STATEMENT_TIMEOUT and was cancelled by ${where}: look for lock contention or a missing index (pg_stat_activity), or raise DB_STATEMENT_TIMEOUT.`;
    case message === QUERY_READ_TIMEOUT_MESSAGE:
      return `No answer from ${where} within DB_STATEMENT_TIMEOUT plus ${CLIENT_TIMEOUT_MARGIN_MS / 1000}s: the connection was lost without a reset (failover, network cut); it was closed and the next statement uses a new connection.`;
    case code === '57P03':
      return `${where} is starting up, shutting down or in recovery: wait for it to accept connections.`;
    case /server does not support SSL/i.test(message):
      return `sslmode=${settings.sslmode} requires TLS, but ${where} does not support SSL (ssl=off): turn on ssl in postgresql.conf (ssl_cert_file, ssl_key_file), or, on a trusted private network only, use sslmode=prefer or disable.`;
    case code === 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `Host name mismatch with sslmode=verify-full: the server certificate of ${where} does not name "${settings.host}" (it lists ${certificateNames || 'no subjectAltName'}). Connect with a host name the certificate lists, add "${settings.host}" to the certificate's subjectAltName, or use sslmode=verify-ca (CA checked, host name not).`;
    case UNTRUSTED_CERT_CODES.has(code):
      return settings.sslrootcert
        ? `The server certificate of ${where} is not signed by the CA in ${caFile} (self-signed or another CA): point sslrootcert at the CA that issued the server certificate (on Amazon RDS, the regional CA bundle).`
        : `The server certificate of ${where} is self-signed or from an unknown CA and ${caFile} was given: set sslrootcert to the issuing CA's PEM file.`;
    case code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID':
      return `The server certificate of ${where} is expired or not yet valid: renew the server certificate (or check the clock).`;
    case code.startsWith('ERR_SSL') ||
      code.startsWith('ERR_TLS') ||
      /SSL|TLS|certificate/i.test(message):
      return `TLS failed with ${where} (${caFile}): check sslmode and the CA file, and the server's ssl settings.`;
    default:
      return `Database error with ${where}.`;
  }
}

function noHbaEntry(message: string, where: string): string {
  const base = `pg_hba.conf on ${where} has no line that lets this host, user and database in`;
  if (/no encryption/i.test(message)) {
    return `${base} without encryption: the server probably allows only TLS (hostssl). Use sslmode=require, verify-ca or verify-full in DATABASE_URL (or add a matching pg_hba.conf line).`;
  }
  if (/SSL encryption|GSS encryption/i.test(message)) {
    return `${base} over TLS: the server allows this client only unencrypted (hostnossl). Use sslmode=prefer or disable, or add a hostssl line to pg_hba.conf.`;
  }
  return `${base}: add a matching pg_hba.conf line (host, database, user, method) and reload PostgreSQL.`;
}

function factsOf(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) return { code: '', message: String(error) };
  const withCode = error as Error & {
    code?: unknown;
    errors?: unknown[];
    cert?: { subjectaltname?: string };
  };
  // Node reports a host with several addresses as an AggregateError of the per-address errors.
  const first = Array.isArray(withCode.errors)
    ? (withCode.errors[0] as typeof withCode)
    : undefined;
  const code = withCode.code ?? first?.code;
  const message = withCode.message || first?.message || '';
  return {
    code: typeof code === 'string' ? code : '',
    message,
    certificateNames: withCode.cert?.subjectaltname,
  };
}

/** Replaces the password wherever it occurs, plain or percent-encoded. */
function scrub(text: string, password: string): string {
  if (password === '') return text;
  return [password, encodeURIComponent(password)].reduce(
    (scrubbed, secret) => scrubbed.split(secret).join('***'),
    text,
  );
}
