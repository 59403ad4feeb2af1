import { ConfigError } from '../../app/src/config/config-error.js';
import { type Env, EnvReader } from '../../app/src/config/env-reader.js';

/**
 * The deployment settings both stacks share, read from SELFMX_* variables once at synth.
 * Secrets (SELFMX_API_KEY, SELFMX_SMTP_PASS) are validated here but never kept: the stacks take
 * their values at deploy time through sensitive Terraform variables, so no secret is ever
 * written into cdk.tf.json.
 */
export interface DeploymentConfig {
  /** SELFMX_ENV: names the environment and prefixes every resource name. */
  readonly env: string;
  readonly database: DatabasePoolConfig;
  /** Where the bootstrap admin API key comes from. */
  readonly apiKey: SecretSource;
  /** The SMTP relay; undefined when SELFMX_SMTP_HOST is unset (the local stack then runs Mailpit). */
  readonly smtp: SmtpRelayConfig | undefined;
  /** SELFMX_LOG_LEVEL, passed to the app as LOG_LEVEL. */
  readonly logLevel: LogLevel;
}

/** The app's DB_POOL_SIZE, DB_POOL_TIMEOUT and DB_IDLE_TIMEOUT. */
export interface DatabasePoolConfig {
  readonly poolSize: number;
  readonly poolTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
}

export interface SmtpRelayConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  /** 'variable' when SELFMX_SMTP_PASS is set: the value is given at deploy as TF_VAR_smtp_pass. */
  readonly pass: 'variable' | 'none';
  readonly tls: boolean;
  readonly tlsVerify: boolean;
}

/**
 * 'generated': the stack generates the secret (random provider) and outputs it as a sensitive
 * output. 'variable': the operator supplies it at deploy through a sensitive Terraform variable.
 */
export type SecretSource = 'generated' | 'variable';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Longest SELFMX_ENV: keeps `<env>-selfmx-postgres` and similar names readable and DNS-safe. */
export const MAX_ENV_NAME_LENGTH = 20;
const ENV_NAME = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/** The shortest SELFMX_API_KEY accepted: `openssl rand -hex 32` gives 64 characters. */
export const MIN_API_KEY_LENGTH = 32;

/** The app's documented pool defaults (docs/database.md#pool-settings). */
export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_POOL_TIMEOUT_SECONDS = 30;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;

export function loadDeploymentConfig(env: Env): DeploymentConfig {
  const read = new EnvReader(env);
  return Object.freeze({
    env: readEnvironmentName(read),
    database: Object.freeze({
      poolSize: read.integer('SELFMX_DB_POOL_SIZE', DEFAULT_POOL_SIZE, { min: 1, max: 1000 }),
      poolTimeoutSeconds: read.integer('SELFMX_DB_POOL_TIMEOUT', DEFAULT_POOL_TIMEOUT_SECONDS, {
        min: 1,
        max: 3600,
      }),
      idleTimeoutSeconds: read.integer('SELFMX_DB_IDLE_TIMEOUT', DEFAULT_IDLE_TIMEOUT_SECONDS, {
        min: 1,
        max: 86_400,
      }),
    }),
    apiKey: readApiKeySource(read),
    smtp: readSmtpRelay(read),
    logLevel: read.oneOf<LogLevel>('SELFMX_LOG_LEVEL', 'info', LOG_LEVELS),
  });
}

export function readEnvironmentName(read: EnvReader): string {
  const name = read.string('SELFMX_ENV', 'dev');
  if (name.length > MAX_ENV_NAME_LENGTH || !ENV_NAME.test(name) || name.includes('--')) {
    throw new ConfigError(
      'SELFMX_ENV',
      `must be a DNS-safe name of 1-${MAX_ENV_NAME_LENGTH} characters: lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, e.g. dev or pr-123 (got "${name}")`,
    );
  }
  return name;
}

function readApiKeySource(read: EnvReader): SecretSource {
  const key = read.optional('SELFMX_API_KEY');
  if (key === undefined) return 'generated';
  if (key.length < MIN_API_KEY_LENGTH || /\s/.test(key)) {
    throw new ConfigError(
      'SELFMX_API_KEY',
      `must be at least ${MIN_API_KEY_LENGTH} characters without spaces (got ${key.length} characters); generate one with \`openssl rand -hex 32\`, or unset it to have the stack generate one`,
    );
  }
  return 'variable';
}

const SMTP_DETAILS = [
  'SELFMX_SMTP_PORT',
  'SELFMX_SMTP_USER',
  'SELFMX_SMTP_PASS',
  'SELFMX_SMTP_TLS',
  'SELFMX_SMTP_TLS_VERIFY',
] as const;

function readSmtpRelay(read: EnvReader): SmtpRelayConfig | undefined {
  const host = read.optional('SELFMX_SMTP_HOST');
  if (host === undefined) {
    const orphan = SMTP_DETAILS.find((name) => read.optional(name) !== undefined);
    if (orphan !== undefined) {
      throw new ConfigError(
        'SELFMX_SMTP_HOST',
        `is required when ${orphan} is set: give the SMTP relay's host name, or unset the SELFMX_SMTP_* variables to use the local mail catcher`,
      );
    }
    return undefined;
  }
  if (!/^[A-Za-z0-9.-]+$/.test(host) && !/^\[?[0-9A-Fa-f:.]+\]?$/.test(host)) {
    throw new ConfigError(
      'SELFMX_SMTP_HOST',
      `must be a host name or IP address, e.g. smtp.example.com (got "${host}")`,
    );
  }
  const user = read.optional('SELFMX_SMTP_USER');
  const hasPass = read.optional('SELFMX_SMTP_PASS') !== undefined;
  if ((user === undefined) !== !hasPass) {
    throw new ConfigError(
      user === undefined ? 'SELFMX_SMTP_USER' : 'SELFMX_SMTP_PASS',
      'SELFMX_SMTP_USER and SELFMX_SMTP_PASS go together: set both for an authenticated relay, or neither',
    );
  }
  return Object.freeze({
    host,
    port: read.integer('SELFMX_SMTP_PORT', 587, { min: 1, max: 65535 }),
    user,
    pass: hasPass ? 'variable' : 'none',
    tls: read.boolean('SELFMX_SMTP_TLS', true),
    tlsVerify: read.boolean('SELFMX_SMTP_TLS_VERIFY', true),
  });
}
