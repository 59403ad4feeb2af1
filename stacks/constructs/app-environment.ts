import { Fn, Token } from 'cdktf';
import type { LogFormat, LogLevel } from '../../app/src/config/app-config.js';
import {
  APP_VARIABLES,
  type AppVariableName,
  appVariable,
} from '../../app/src/config/app-environment-spec.js';
import type { DatabasePoolConfig } from '../config/deployment-config.js';

/**
 * The SelfMX container environment, built the same way for every target so that the migration
 * job and the app always get identical database settings. Names, defaults and which variables
 * are secret come from the app's declarations (app-environment-spec.ts).
 * Values may be Terraform tokens (a generated password, a container name).
 */
export type AppEnvironment = Readonly<Record<string, string>>;

/** Only declared app variables can be set. */
type DeclaredEnvironment = Readonly<Partial<Record<AppVariableName, string>>>;

/** Variables that carry secrets: the AWS stack moves them to `secrets`, never `environment`. */
export const SECRET_VARIABLES: readonly AppVariableName[] = APP_VARIABLES.filter(
  (variable) => 'secret' in variable && variable.secret,
).map((variable) => variable.name);

/** The port the app listens on inside its container (PORT). */
export const APP_CONTAINER_PORT = appVariable('PORT').default;

/** PostgreSQL's port, in the local container and on RDS. */
export const POSTGRES_PORT = 5432;

export interface DatabaseUrlParts {
  readonly user: string;
  /**
   * Plain text or a token; percent-encoded here (with Terraform's urlencode for tokens).
   * Omitted when the container gets the password from PGPASSWORD instead.
   */
  readonly password?: string;
  readonly host: string;
  /** @default POSTGRES_PORT (5432) */
  readonly port?: number;
  readonly database: string;
  /** Query options such as `{ sslmode: 'verify-full', sslrootcert: '/app/certs/ca.pem' }`. */
  readonly options: Readonly<Record<string, string>>;
}

/** `postgres://user:password@host:port/database?options`, the format the seed documents. */
export function databaseUrl(parts: DatabaseUrlParts): string {
  const query = Object.entries(parts.options)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('&');
  const password = parts.password === undefined ? '' : `:${urlComponent(parts.password)}`;
  return `postgres://${urlComponent(parts.user)}${password}@${parts.host}:${parts.port ?? POSTGRES_PORT}/${urlComponent(parts.database)}${query ? `?${query}` : ''}`;
}

/** Percent-encodes a URL component now, or at apply time when it is a Terraform token. */
export function urlComponent(value: string): string {
  return Token.isUnresolved(value) ? Fn.urlencode(value) : encodeURIComponent(value);
}

export interface DatabaseEnvironmentProps {
  readonly url: string;
  readonly pool: DatabasePoolConfig;
}

/** DATABASE_URL and DB_POOL_* : what the migration job and the app must share exactly. */
export function databaseEnvironment(props: DatabaseEnvironmentProps): DeclaredEnvironment {
  return {
    DATABASE_URL: props.url,
    DB_POOL_SIZE: String(props.pool.poolSize),
    DB_POOL_TIMEOUT: String(props.pool.poolTimeoutSeconds),
    DB_IDLE_TIMEOUT: String(props.pool.idleTimeoutSeconds),
  };
}

export interface SmtpEnvironmentProps {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  /** Plain text or a token (a sensitive variable, a secret). */
  readonly pass?: string;
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  /** @default false (SMTP_ALLOW_PLAIN_AUTH unset) */
  readonly allowPlainAuth?: boolean;
}

export function smtpEnvironment(smtp: SmtpEnvironmentProps): DeclaredEnvironment {
  return {
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    ...(smtp.user === undefined ? {} : { SMTP_USER: smtp.user }),
    ...(smtp.pass === undefined ? {} : { SMTP_PASS: smtp.pass }),
    SMTP_TLS: String(smtp.tls),
    SMTP_TLS_VERIFY: String(smtp.tlsVerify),
    ...(smtp.allowPlainAuth ? { SMTP_ALLOW_PLAIN_AUTH: 'true' } : {}),
  };
}

export interface LogEnvironmentProps {
  readonly level: LogLevel;
  /** @default LOG_FORMAT's default (json) */
  readonly format?: LogFormat;
}

export function logEnvironment(log: LogEnvironmentProps): DeclaredEnvironment {
  return { LOG_LEVEL: log.level, LOG_FORMAT: log.format ?? appVariable('LOG_FORMAT').default };
}

export interface MigrationEnvironmentProps {
  readonly database: DatabaseEnvironmentProps;
  readonly log: LogEnvironmentProps;
}

/** The environment of `selfmx migrate`: the database and logging, nothing else. */
export function migrationEnvironment(props: MigrationEnvironmentProps): DeclaredEnvironment {
  return { ...databaseEnvironment(props.database), ...logEnvironment(props.log) };
}

export interface ServiceEnvironmentProps extends MigrationEnvironmentProps {
  readonly apiKey: string;
  readonly smtp: SmtpEnvironmentProps;
  /** @default APP_CONTAINER_PORT (8080) */
  readonly port?: number;
  /** TRUST_PROXY: the proxies in front of the app (CIDRs), or none. @default none */
  readonly trustProxy?: string;
}

/**
 * The environment of `selfmx serve`. DB_AUTO_MIGRATE is always false: the migration job owns the
 * schema and runs before every release, so app instances never race to migrate.
 */
export function serviceEnvironment(props: ServiceEnvironmentProps): DeclaredEnvironment {
  return {
    ...migrationEnvironment(props),
    DB_AUTO_MIGRATE: 'false',
    API_KEY: props.apiKey,
    PORT: String(props.port ?? APP_CONTAINER_PORT),
    HOST: appVariable('HOST').default,
    ...(props.trustProxy === undefined ? {} : { TRUST_PROXY: props.trustProxy }),
    ...smtpEnvironment(props.smtp),
  };
}

/** Docker's `KEY=value` list, sorted so that the synthesized JSON is stable. */
export function containerEnv(environment: AppEnvironment): string[] {
  return Object.keys(environment)
    .sort()
    .map((name) => `${name}=${environment[name]}`);
}
