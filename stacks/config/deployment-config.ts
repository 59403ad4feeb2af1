import type { LogLevel } from '../../app/src/config/app-config.js';
import { ConfigError } from '../../app/src/config/config-error.js';
import type { Env, EnvReader } from '../../app/src/config/env-reader.js';
import { plainAuthRefusal } from '../../app/src/config/smtp-plain-auth.js';
import {
  type DeploymentVariable,
  deploymentEnvironmentReader,
  deploymentVariable,
} from './deployment-environment-spec.js';

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
  /** SELFMX_SMTP_ALLOW_PLAIN_AUTH: the user authenticates over plain SMTP (private relays only). */
  readonly allowPlainAuth: boolean;
}

/**
 * 'generated': the stack generates the secret (random provider) and outputs it as a sensitive
 * output. 'variable': the operator supplies it at deploy through a sensitive Terraform variable.
 */
export type SecretSource = 'generated' | 'variable';

/** The shortest SELFMX_API_KEY accepted: `openssl rand -hex 32` gives 64 characters. */
export const MIN_API_KEY_LENGTH = deploymentVariable('SELFMX_API_KEY').minLength;

export function loadDeploymentConfig(env: Env): DeploymentConfig {
  const read = deploymentEnvironmentReader(env);
  return Object.freeze({
    env: read.value('SELFMX_ENV'),
    database: Object.freeze({
      poolSize: read.value('SELFMX_DB_POOL_SIZE'),
      poolTimeoutSeconds: read.value('SELFMX_DB_POOL_TIMEOUT'),
      idleTimeoutSeconds: read.value('SELFMX_DB_IDLE_TIMEOUT'),
    }),
    // Validated, never kept: the value is given at deploy through a sensitive variable.
    apiKey: read.value('SELFMX_API_KEY') === undefined ? 'generated' : 'variable',
    smtp: readSmtpRelay(read),
    logLevel: read.value('SELFMX_LOG_LEVEL'),
  });
}

const SMTP_DETAILS = [
  'SELFMX_SMTP_PORT',
  'SELFMX_SMTP_USER',
  'SELFMX_SMTP_PASS',
  'SELFMX_SMTP_TLS',
  'SELFMX_SMTP_TLS_VERIFY',
  'SELFMX_SMTP_ALLOW_PLAIN_AUTH',
] as const;

function readSmtpRelay(read: EnvReader<DeploymentVariable>): SmtpRelayConfig | undefined {
  const host = read.value('SELFMX_SMTP_HOST');
  if (host === undefined) {
    const orphan = SMTP_DETAILS.find((name) => read.isSet(name));
    if (orphan !== undefined) {
      throw new ConfigError(
        'SELFMX_SMTP_HOST',
        `is required when ${orphan} is set: give the SMTP relay's host name, or unset the SELFMX_SMTP_* variables to use the local mail catcher`,
      );
    }
    return undefined;
  }
  const user = read.value('SELFMX_SMTP_USER');
  const hasPass = read.isSet('SELFMX_SMTP_PASS');
  if ((user === undefined) !== !hasPass) {
    throw new ConfigError(
      user === undefined ? 'SELFMX_SMTP_USER' : 'SELFMX_SMTP_PASS',
      'SELFMX_SMTP_USER and SELFMX_SMTP_PASS go together: set both for an authenticated relay, or neither',
    );
  }
  const tls = read.value('SELFMX_SMTP_TLS');
  const allowPlainAuth = read.value('SELFMX_SMTP_ALLOW_PLAIN_AUTH');
  // The app would refuse to start: say so at synth, with the deployment variables' names.
  if (user !== undefined && !tls && !allowPlainAuth) {
    throw new ConfigError(
      'SELFMX_SMTP_USER',
      plainAuthRefusal({ tls: 'SELFMX_SMTP_TLS', allowPlainAuth: 'SELFMX_SMTP_ALLOW_PLAIN_AUTH' }),
    );
  }
  return Object.freeze({
    host,
    port: read.value('SELFMX_SMTP_PORT'),
    user,
    pass: hasPass ? 'variable' : 'none',
    tls,
    tlsVerify: read.value('SELFMX_SMTP_TLS_VERIFY'),
    allowPlainAuth,
  });
}
