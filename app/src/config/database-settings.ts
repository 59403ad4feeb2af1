import { readFileSync, statSync } from 'node:fs';
import {
  type AppVariable,
  appEnvironmentReader,
  DATABASE_URL_FORMAT,
  DATABASE_URL_OPTIONS,
  SSL_MODES,
} from './app-environment-spec.js';
import { ConfigError } from './config-error.js';
import type { Env, EnvReader } from './env-reader.js';
import type { IntegerVariable } from './env-spec.js';

export { SSL_MODES };
export type SslMode = (typeof SSL_MODES)[number];

/** The query options DATABASE_URL may carry; anything else is refused. */
export const URL_OPTIONS = DATABASE_URL_OPTIONS.map((option) => option.name);

/** libpq's default when the URL has no sslmode. */
export const DEFAULT_SSL_MODE: SslMode = urlOption('sslmode').default;

/** The URL options that override a DB_* variable, with the same default and bounds. */
const POOL_OPTIONS = {
  pool_size: urlOption('pool_size').variable,
  pool_timeout: urlOption('pool_timeout').variable,
} as const;

export interface DatabaseSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /**
   * From DATABASE_URL, else PGPASSWORD; empty when neither has one. Non-enumerable:
   * JSON.stringify, spreads and util.inspect leave it out.
   */
  readonly password: string;
  readonly sslmode: SslMode;
  /** Path of the PEM file with the CA certificate(s) that must have signed the server's. */
  readonly sslrootcert?: string;
  readonly poolSize: number;
  readonly poolTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  readonly autoMigrate: boolean;
  /** `statement_timeout` of the app's pool (DB_STATEMENT_TIMEOUT). */
  readonly statementTimeoutSeconds: number;
  /** `idle_in_transaction_session_timeout` of the app's pool (DB_IDLE_IN_TRANSACTION_TIMEOUT). */
  readonly idleInTransactionTimeoutSeconds: number;
  /** `lock_timeout` of the migrations (DB_MIGRATION_LOCK_TIMEOUT). */
  readonly migrationLockTimeoutSeconds: number;
  /** `postgres://user:***@host:port/db?options`: safe to log. */
  readonly redactedUrl: string;
}

/**
 * Reads DATABASE_URL and the DB_* variables into frozen settings. The URL is parsed here, not by
 * node-postgres, so that sslmode keeps its libpq meaning (see ssl.ts) and the password never
 * reaches an error message.
 */
export function parseDatabaseSettings(env: Env): DatabaseSettings {
  const read = appEnvironmentReader(env);
  const url = parseUrl(read.value('DATABASE_URL'));
  const options = readQueryOptions(url);

  const sslmode = parseSslMode(options.get('sslmode'));
  const sslrootcert = options.get('sslrootcert');
  checkRootCert(sslmode, sslrootcert);

  const settings = {
    host: parseHost(url),
    port: url.port === '' ? 5432 : Number(url.port),
    database: requiredPart(decode(url.pathname.slice(1)), 'the database name', 'path'),
    user: requiredPart(decode(url.username), 'the user name', 'user'),
    sslmode,
    ...(sslrootcert === undefined ? {} : { sslrootcert }),
    poolSize: poolValue(options, 'pool_size', read),
    poolTimeoutSeconds: poolValue(options, 'pool_timeout', read),
    idleTimeoutSeconds: positiveInteger(
      'DB_IDLE_TIMEOUT',
      read.raw('DB_IDLE_TIMEOUT'),
      read.declaration('DB_IDLE_TIMEOUT'),
    ),
    autoMigrate: read.value('DB_AUTO_MIGRATE'),
    statementTimeoutSeconds: read.value('DB_STATEMENT_TIMEOUT'),
    idleInTransactionTimeoutSeconds: read.value('DB_IDLE_IN_TRANSACTION_TIMEOUT'),
    migrationLockTimeoutSeconds: read.value('DB_MIGRATION_LOCK_TIMEOUT'),
    redactedUrl: '',
  };
  const urlPassword = decode(url.password);
  // As with libpq and psql, PGPASSWORD supplies the password when the URL has none (the AWS stack
  // injects it from the RDS-managed secret, so it never passes through Terraform).
  const password = urlPassword || (read.value('PGPASSWORD') ?? '');
  settings.redactedUrl = redactUrl(settings, urlPassword !== '', url.search);
  Object.defineProperty(settings, 'password', { value: password, enumerable: false });
  return Object.freeze(settings as DatabaseSettings);
}

/** Parses without ever echoing the input: WHATWG URL errors carry it (password included). */
function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      `is not a valid URL; expected ${DATABASE_URL_FORMAT} (percent-encode special characters in the user name and password)`,
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      'DATABASE_URL',
      `must start with postgres:// or postgresql:// (got ${url.protocol}//); expected ${DATABASE_URL_FORMAT}`,
    );
  }
  return url;
}

function parseHost(url: URL): string {
  // WHATWG keeps IPv6 literals in brackets; node's net/tls want them bare.
  const host = decode(url.hostname).replace(/^\[(.*)\]$/, '$1');
  return requiredPart(host, 'the host name', 'host');
}

function requiredPart(value: string, what: string, part: string): string {
  if (value === '') {
    throw new ConfigError(
      'DATABASE_URL',
      `must include ${what} (${part}); expected ${DATABASE_URL_FORMAT}`,
    );
  }
  return value;
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    // Never echo the part: it may be the password.
    throw new ConfigError(
      'DATABASE_URL',
      'contains a malformed percent-encoding (a % not followed by two hex digits); encode % as %25',
    );
  }
}

function readQueryOptions(url: URL): Map<string, string> {
  const options = new Map<string, string>();
  for (const [name, value] of queryPairs(url.search)) {
    if (!(URL_OPTIONS as readonly string[]).includes(name)) {
      // The value is not echoed: an operator may have put a secret there (e.g. password=...).
      throw new ConfigError(
        name,
        `is not a supported DATABASE_URL option; accepted options: ${URL_OPTIONS.join(', ')}`,
      );
    }
    if (options.has(name)) {
      throw new ConfigError(name, 'appears more than once in DATABASE_URL; give it once');
    }
    options.set(name, value);
  }
  return options;
}

/**
 * Splits the query as libpq does: unlike URLSearchParams, a `+` stays a `+` (it may be part of an
 * sslrootcert path); only percent-escapes are decoded.
 */
function queryPairs(search: string): [string, string][] {
  return search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const separator = pair.indexOf('=');
      return separator === -1
        ? [decode(pair), '']
        : [decode(pair.slice(0, separator)), decode(pair.slice(separator + 1))];
    });
}

function parseSslMode(value: string | undefined): SslMode {
  if (value === undefined) return DEFAULT_SSL_MODE;
  if (!(SSL_MODES as readonly string[]).includes(value)) {
    throw new ConfigError(
      'sslmode',
      `DATABASE_URL option must be one of ${SSL_MODES.join(', ')} (got "${value}")`,
    );
  }
  return value as SslMode;
}

/** verify-* need a CA to verify against; a CA named for any mode must be a readable PEM file. */
function checkRootCert(sslmode: SslMode, path: string | undefined): void {
  if (path === undefined) {
    if (sslmode === 'verify-ca' || sslmode === 'verify-full') {
      throw new ConfigError(
        'sslrootcert',
        `DATABASE_URL option is required with sslmode=${sslmode}: set it to the path of the PEM file holding the CA certificate that signed the server's certificate (for Amazon RDS, the regional CA bundle)`,
      );
    }
    return;
  }
  if (path === '') {
    throw new ConfigError('sslrootcert', 'DATABASE_URL option must be a file path (got "")');
  }
  let contents: string;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    contents = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(
      'sslrootcert',
      `DATABASE_URL option names "${path}", which is not a readable file; give the path of a PEM CA certificate file`,
    );
  }
  if (!contents.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      'sslrootcert',
      `DATABASE_URL option names "${path}", which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
}

/** The URL option beats the variable, which beats the default. */
function poolValue(
  options: Map<string, string>,
  option: keyof typeof POOL_OPTIONS,
  read: EnvReader<AppVariable>,
): number {
  const variable = POOL_OPTIONS[option];
  const declaration = read.declaration(variable);
  const fromUrl = options.get(option);
  if (fromUrl !== undefined) return positiveInteger(option, fromUrl, declaration);
  return positiveInteger(variable, read.raw(variable), declaration);
}

/** What the pool variables declare: a default, bounds and a unit for the refusal. */
type PoolVariable = Required<Pick<IntegerVariable, 'default' | 'min' | 'max' | 'unit'>>;

/** Checks against the declaration's bounds, with a refusal that names the unit and the default. */
function positiveInteger(
  field: string,
  value: string | undefined,
  { default: fallback, min, max, unit }: PoolVariable,
): number {
  if (value === undefined) return fallback;
  const where = /^[A-Z_]+$/.test(field) ? '' : 'DATABASE_URL option ';
  const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(
      field,
      `${where}must be a whole number of ${unit} from ${min} to ${max} (got "${value}"; default ${fallback})`,
    );
  }
  return parsed;
}

function redactUrl(
  settings: { host: string; port: number; database: string; user: string },
  hasPassword: boolean,
  search: string,
): string {
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const credentials = `${encodeURIComponent(settings.user)}${hasPassword ? ':***' : ''}`;
  return `postgres://${credentials}@${host}:${settings.port}/${encodeURIComponent(settings.database)}${search}`;
}

function urlOption<N extends (typeof DATABASE_URL_OPTIONS)[number]['name']>(
  name: N,
): Extract<(typeof DATABASE_URL_OPTIONS)[number], { name: N }> {
  return DATABASE_URL_OPTIONS.find((option) => option.name === name) as Extract<
    (typeof DATABASE_URL_OPTIONS)[number],
    { name: N }
  >;
}
