import { type Env, EnvReader } from './env-reader.js';
import type { DeclarationOf, EnvVariable } from './env-spec.js';

/**
 * Every environment variable SelfMX reads, declared once. The names and defaults are a contract
 * with operators: change them only with a CHANGELOG entry. The config loaders read through these
 * declarations, the stacks take names, defaults and bounds from them, and docs/configuration.md
 * is generated from them.
 */

/** The commands that read a variable: `selfmx serve|worker|migrate`, and `npm run dev`. */
export type AppCommand = 'serve' | 'worker' | 'migrate' | 'dev';
/** The sections of the configuration reference. */
export type AppVariableGroup =
  | 'Database'
  | 'HTTP and API'
  | 'Logging'
  | 'Queue'
  | 'Retention'
  | 'SMTP'
  | 'Webhooks';
export type AppVariableSpec = EnvVariable & {
  readonly group: AppVariableGroup;
  readonly readBy: readonly AppCommand[];
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'text'] as const;
/**
 * The two login members of the least-privilege role `selfmx_app` (created by a migration). A
 * rotation sets the new password on the member not in use and moves the service to it, so the
 * running processes' member keeps its password.
 */
export const APP_ROLE_MEMBERS = ['selfmx_app_a', 'selfmx_app_b'] as const;
export type AppRoleMember = (typeof APP_ROLE_MEMBERS)[number];

/** libpq's sslmode values that SelfMX supports, from least to most strict. */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

export const DATABASE_URL_FORMAT =
  'postgres://user:password@host:5432/database?sslmode=verify-full';

const ALL = ['serve', 'worker', 'migrate'] as const;
const DELIVERING = ['serve', 'worker'] as const;
const SERVING = ['serve'] as const;
/** Far above any server's max_connections. */
const MAX_POOL_CONNECTIONS = 10_000;
/** A day: well inside setTimeout's range. */
const MAX_TIMEOUT_SECONDS = 86_400;
const TCP_PORT = { min: 1, max: 65_535 } as const;
/** A hundred years: longer is forever, which `0` says. */
const MAX_RETENTION_DAYS = 36_500;

export const APP_VARIABLES = [
  {
    name: 'DATABASE_URL',
    group: 'Database',
    readBy: ALL,
    type: 'url',
    required: `set it to ${DATABASE_URL_FORMAT}`,
    allowedDoc: 'a `postgres://` or `postgresql://` URL',
    secret: true,
    doc: '`postgres://user:password@host:port/database?options`, with the query options below; percent-encode special characters in the user name and password (`@` → `%40`, `:` → `%3A`, `/` → `%2F`, `%` → `%25`)',
  },
  {
    name: 'PGPASSWORD',
    group: 'Database',
    readBy: ALL,
    type: 'string',
    secret: true,
    verbatim: true,
    doc: 'the database password when `DATABASE_URL` has none, as for `psql` (the AWS stack injects it from the RDS-managed secret)',
  },
  {
    name: 'DB_POOL_SIZE',
    group: 'Database',
    readBy: ALL,
    type: 'integer',
    default: 10,
    min: 1,
    max: MAX_POOL_CONNECTIONS,
    unit: 'connections',
    doc: "server connections per process, never more (`pool_size` in the URL wins); keep `pool_size × processes` below the server's `max_connections` minus `superuser_reserved_connections`",
  },
  {
    name: 'DB_POOL_TIMEOUT',
    group: 'Database',
    readBy: ALL,
    type: 'integer',
    default: 30,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
    unit: 'seconds',
    doc: 'seconds a request waits for a free connection (and for a new one to be established) before it fails, and a send for its batched statement (`pool_timeout` in the URL wins)',
  },
  {
    name: 'DB_IDLE_TIMEOUT',
    group: 'Database',
    readBy: ALL,
    type: 'integer',
    default: 300,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
    unit: 'seconds',
    doc: 'seconds before an idle connection is closed',
  },
  {
    name: 'DB_AUTO_MIGRATE',
    group: 'Database',
    readBy: ALL,
    type: 'boolean',
    default: true,
    doc: "`serve`/`worker` apply pending migrations first (under the migration job's lock); `false`: refuse to start on a schema that is behind",
  },
  // Database time limits and the application role.
  {
    name: 'DB_STATEMENT_TIMEOUT',
    group: 'Database',
    readBy: DELIVERING,
    type: 'integer',
    default: 30,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
    unit: 'seconds',
    doc: "longest a statement of the app's pool may run: PostgreSQL cancels it (`statement_timeout`), and the app gives up on its own 5 s later when no answer can arrive (a connection black-holed by a failover), closing the connection and freeing its pool slot",
  },
  {
    name: 'DB_IDLE_IN_TRANSACTION_TIMEOUT',
    group: 'Database',
    readBy: DELIVERING,
    type: 'integer',
    default: 60,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
    unit: 'seconds',
    doc: "PostgreSQL ends a session of the app's pool that stays idle inside a transaction this long (`idle_in_transaction_session_timeout`), releasing its row locks when the app lost the connection mid-transaction",
  },
  {
    name: 'DB_MIGRATION_LOCK_TIMEOUT',
    group: 'Database',
    readBy: ALL,
    type: 'integer',
    default: 10,
    min: 1,
    max: MAX_TIMEOUT_SECONDS,
    unit: 'seconds',
    doc: "longest a migration waits for a table lock (`lock_timeout`) before it fails, applying nothing, instead of queueing all traffic behind its lock request; the migrations' own statements have no time limit",
  },
  {
    name: 'APP_DB_USER',
    group: 'Database',
    readBy: ['migrate'],
    type: 'enum',
    values: APP_ROLE_MEMBERS,
    default: 'selfmx_app_a',
    doc: 'the member of the least-privilege role `selfmx_app` whose password `migrate` sets from `APP_DB_PASSWORD`: the user `serve` and `worker` connect as. A password rotation switches to the other member, so that running processes keep logging in as theirs ([Rotating credentials](operations.md#rotating-credentials))',
  },
  {
    name: 'APP_DB_PASSWORD',
    group: 'Database',
    readBy: ['migrate'],
    type: 'string',
    secret: true,
    verbatim: true,
    minLength: 16,
    expected: 'at least 16 characters',
    hint: 'generate one with `openssl rand -hex 32`',
    doc: '`migrate` sets it as the password of `APP_DB_USER` (and lets it log in) after applying migrations, so that `serve` and `worker` can connect as that member of `selfmx_app`; unset: the roles are left as they are (`NOLOGIN` when new)',
  },
  {
    name: 'SELFMX_DEV_DIR',
    group: 'Database',
    readBy: ['dev'],
    type: 'string',
    defaultDoc: '`.selfmx-dev/` in the checkout',
    doc: 'where `npm run dev` keeps its embedded PostgreSQL data, caught mail and generated credentials between runs',
  },
  {
    name: 'API_KEY',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'string',
    required: 'set it to a random secret of at least 16 characters',
    minLength: 16,
    expected: 'at least 16 characters',
    hint: 'generate one with `openssl rand -hex 32`',
    secret: true,
    doc: 'the bootstrap admin key (`*`) of the default tenant; stored only as a SHA-256; changing it and restarting revokes the previous one',
  },
  {
    name: 'PORT',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 8080,
    min: 0,
    max: TCP_PORT.max,
    doc: 'HTTP port',
  },
  {
    name: 'HOST',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'string',
    default: '0.0.0.0',
    doc: 'HTTP listen address',
  },
  {
    name: 'CORS_ORIGINS',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'list',
    default: '*',
    doc: 'comma-separated allowed browser origins, or `*` for any',
  },
  {
    name: 'RATE_LIMIT_REQUESTS',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 100,
    min: 1,
    doc: 'requests per API key per window, shared by all instances',
  },
  {
    name: 'RATE_LIMIT_WINDOW',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 60,
    min: 1,
    unit: 'seconds',
    doc: 'rate-limit window length in seconds',
  },
  // ── HTTP hardening: trusted proxies, failed-authentication throttle, key cap, time limits ──
  {
    name: 'TRUST_PROXY',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'string',
    defaultDoc: 'none: the client address is the TCP peer',
    allowedDoc: 'comma-separated IPs/CIDRs (e.g. `10.0.0.0/16`), or a hop count (`1`)',
    doc: 'the proxies whose `X-Forwarded-For` is believed: with a list, the client address is the rightmost forwarded address not sent by a listed proxy; with a hop count `n`, the address `n` hops before the TCP peer. Set it behind a load balancer (the AWS stack sets the VPC CIDR); unset, `X-Forwarded-For` is ignored',
  },
  {
    name: 'AUTH_FAILURE_LIMIT',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 30,
    min: 1,
    max: 1_000_000,
    unit: 'failures per minute',
    doc: 'failed authentications per client address per minute (per instance) before that address gets 429 with `Retry-After` until the minute ends; keys that recently authenticated on this instance keep working',
  },
  {
    name: 'API_KEYS_PER_TENANT',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 100,
    min: 1,
    max: 1_000_000,
    unit: 'keys',
    doc: 'most live (unrevoked) API keys a tenant may have; creating one more answers 409',
  },
  {
    name: 'HTTP_REQUEST_TIMEOUT',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 30,
    min: 1,
    max: 3_600,
    unit: 'seconds',
    doc: 'seconds a client has to send a whole request, headers and body; a slower one gets 408 and its connection is closed',
  },
  // ── end of HTTP hardening ──
  {
    name: 'SCHEDULED_SEND_MAX_DAYS',
    group: 'HTTP and API',
    readBy: SERVING,
    type: 'integer',
    default: 30,
    min: 1,
    max: 365,
    unit: 'days',
    doc: "how far ahead an email's `scheduled_at` may lie; a later time is refused with 422",
  },
  {
    name: 'LOG_LEVEL',
    group: 'Logging',
    readBy: ALL,
    type: 'enum',
    values: LOG_LEVELS,
    default: 'info',
    doc: 'the least severe level logged',
  },
  {
    name: 'LOG_FORMAT',
    group: 'Logging',
    readBy: ALL,
    type: 'enum',
    values: LOG_FORMATS,
    default: 'json',
    doc: '`json` (one pino line per event) or `text` (readable lines)',
  },
  {
    name: 'QUEUE_WORKERS',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 4,
    min: 0,
    max: 256,
    doc: 'delivery workers in this process; `0` runs none (the API only; another process delivers)',
  },
  {
    name: 'QUEUE_RETRY_ATTEMPTS',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 100,
    min: 0,
    max: 10_000,
    doc: 'retries after the relay answers `4xx`: the relay may answer `4xx` `1 + QUEUE_RETRY_ATTEMPTS` times before the email fails; an unreachable relay, a TLS error or a refused login is not counted (only `QUEUE_MAX_AGE` ends those retries); the default leaves `QUEUE_MAX_AGE` the limit',
  },
  {
    name: 'QUEUE_RETRY_DELAY',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 60,
    min: 1,
    unit: 'seconds',
    doc: 'seconds before the first retry; doubles with each attempt up to `QUEUE_MAX_RETRY_DELAY`',
  },
  {
    name: 'QUEUE_MAX_RETRY_DELAY',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 3600,
    min: 1,
    unit: 'seconds',
    doc: 'the longest wait between two attempts (`QUEUE_RETRY_DELAY` if that is longer); default 1 h',
  },
  {
    name: 'QUEUE_MAX_AGE',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 259_200,
    min: 1,
    unit: 'seconds',
    doc: 'how long after its first attempt an email is still retried through transient failures (`4xx`, an unreachable relay, a refused login); then it fails; default 72 h',
  },
  {
    name: 'QUEUE_DELAY_NOTICE',
    group: 'Queue',
    readBy: DELIVERING,
    type: 'integer',
    default: 900,
    min: 1,
    unit: 'seconds',
    doc: 'an email still undelivered this long after its first attempt emits `email.delivery_delayed` (once per email); default 15 min',
  },
  {
    name: 'SMTP_HOST',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'string',
    required: 'set it to your SMTP relay host name (e.g. smtp.example.com)',
    doc: 'the SMTP relay (e.g. `email-smtp.eu-west-1.amazonaws.com`)',
  },
  {
    name: 'SMTP_PORT',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'integer',
    default: 587,
    ...TCP_PORT,
    doc: '`587`/`25`/`2525`: STARTTLS; `465`: implicit TLS',
  },
  {
    name: 'SMTP_USER',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'string',
    doc: 'AUTH PLAIN/LOGIN user name, with `SMTP_PASS`; unset: no authentication',
  },
  {
    name: 'SMTP_PASS',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'string',
    secret: true,
    doc: 'the SMTP password (never logged)',
  },
  {
    name: 'SMTP_TLS',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'boolean',
    default: true,
    doc: '`true`: implicit TLS on 465, **STARTTLS required** on any other port (never falls back to plain text); `false`: plain SMTP, STARTTLS ignored (only for a relay on a trusted network, e.g. Mailpit in the local stack)',
  },
  {
    name: 'SMTP_TLS_VERIFY',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'boolean',
    default: true,
    doc: "verify the relay's certificate and host name; `false` accepts any certificate (test relays only)",
  },
  // Plain-text authentication guard.
  {
    name: 'SMTP_ALLOW_PLAIN_AUTH',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'boolean',
    default: false,
    doc: '`true` lets `SMTP_USER` authenticate with `SMTP_TLS=false`, sending the password in the clear; only for a relay on a private network. Without it that combination is refused at start-up',
  },
  {
    name: 'SMTP_TIMEOUT',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'integer',
    default: 30,
    min: 1,
    unit: 'seconds',
    doc: 'seconds allowed to connect, for the greeting, and for socket inactivity',
  },
  {
    name: 'SMTP_POOL_SIZE',
    group: 'SMTP',
    readBy: DELIVERING,
    type: 'integer',
    default: 10,
    min: 1,
    max: 1000,
    unit: 'connections',
    doc: 'most connections each process keeps open to the relay (nodemailer pool, 100 messages per connection)',
  },
  {
    name: 'RETENTION_DAYS',
    group: 'Retention',
    readBy: DELIVERING,
    type: 'integer',
    default: 30,
    min: 0,
    max: MAX_RETENTION_DAYS,
    unit: 'days',
    doc: "days an email's content (html, text, attachments, template data) is kept; then the workers purge it and the email's GET says `purged_at`; `0` keeps it forever",
  },
  {
    name: 'METADATA_RETENTION_DAYS',
    group: 'Retention',
    readBy: DELIVERING,
    type: 'integer',
    default: 90,
    min: 0,
    max: MAX_RETENTION_DAYS,
    unit: 'days',
    allowedDoc: '`0`, or at least `RETENTION_DAYS` (which must then not be `0`)',
    doc: "days an email's metadata, events and recipient outcomes are kept; then the email is deleted whole; `0` keeps them forever",
  },
  {
    name: 'AUDIT_RETENTION_DAYS',
    group: 'Retention',
    readBy: DELIVERING,
    type: 'integer',
    default: 365,
    min: 0,
    max: MAX_RETENTION_DAYS,
    unit: 'days',
    doc: 'days audit entries are kept; `0` keeps them forever',
  },
  {
    name: 'WEBHOOK_WORKERS',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'integer',
    default: 8,
    min: 0,
    max: 256,
    unit: 'requests',
    doc: 'webhook requests this process has in flight at most, apart from the email workers; `0` delivers no webhooks (another process does)',
  },
  {
    name: 'WEBHOOK_ENDPOINT_CONCURRENCY',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'integer',
    default: 2,
    min: 1,
    max: 64,
    unit: 'requests',
    doc: 'requests in flight to one endpoint at most, so a slow or dead endpoint holds no more than this many of `WEBHOOK_WORKERS`',
  },
  {
    name: 'WEBHOOK_RETRY_DIVISOR',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'integer',
    default: 1,
    min: 1,
    max: 1_000_000,
    doc: 'divides the retry schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); for tests and drills only',
  },
  {
    name: 'WEBHOOK_DISABLE_AFTER',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'integer',
    default: 432_000,
    min: 1,
    unit: 'seconds',
    doc: 'an endpoint whose every attempt failed for this long is disabled (audit entry `webhook.disabled`); default 5 days',
  },
  {
    name: 'WEBHOOK_ALLOW_PRIVATE',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'boolean',
    default: false,
    doc: 'allow endpoints that resolve to loopback, private, link-local or metadata addresses (tests, private networks); off, such endpoints are refused when saved and at every delivery',
  },
  {
    name: 'WEBHOOK_ALLOW_HTTP_HOSTS',
    group: 'Webhooks',
    readBy: DELIVERING,
    type: 'list',
    default: '',
    doc: 'comma-separated host names that may receive webhooks over plain `http://`; every other endpoint must be `https://`',
  },
] as const satisfies readonly AppVariableSpec[];

/**
 * The query options DATABASE_URL may carry (anything else is refused). A pool option beats its
 * DB_* variable and has the same default and bounds.
 */
export const DATABASE_URL_OPTIONS = [
  {
    name: 'sslmode',
    values: SSL_MODES,
    default: 'prefer',
    doc: "TLS to the server, with libpq's meanings: with the same URL SelfMX connects exactly when `psql` does; use `verify-full` in production",
  },
  {
    name: 'sslrootcert',
    doc: "path of a PEM file with the CA certificate(s) that signed the server's certificate; required with `verify-ca` and `verify-full`, and must be readable whenever given",
  },
  {
    name: 'pool_size',
    variable: 'DB_POOL_SIZE',
    doc: 'maximum connections this process opens',
  },
  {
    name: 'pool_timeout',
    variable: 'DB_POOL_TIMEOUT',
    doc: 'seconds to wait for a connection',
  },
] as const;

export type AppVariable = (typeof APP_VARIABLES)[number];
export type AppVariableName = AppVariable['name'];

/** One declaration by name, for code that needs a default or a bound without reading. */
export function appVariable<N extends AppVariableName>(name: N): DeclarationOf<AppVariable, N> {
  const found = APP_VARIABLES.find((variable) => variable.name === name);
  if (found === undefined) throw new Error(`${name} is not a declared app variable`);
  return found as DeclarationOf<AppVariable, N>;
}

/** A reader of the app's variables: it accepts declared names only. */
export function appEnvironmentReader(env: Env): EnvReader<AppVariable> {
  return new EnvReader<AppVariable>(APP_VARIABLES, env);
}
