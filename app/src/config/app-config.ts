import {
  type AppRoleMember,
  appEnvironmentReader,
  type LOG_FORMATS,
  LOG_LEVELS,
} from './app-environment-spec.js';
import { ConfigError } from './config-error.js';
import { type DatabaseSettings, parseDatabaseSettings } from './database-settings.js';
import type { Env } from './env-reader.js';
import { checkSmtpCredentialsEncrypted } from './smtp-plain-auth.js';
import { parseTrustedProxies, type TrustedProxies } from './trust-proxy.js';

export { LOG_LEVELS };
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

export interface HttpConfig {
  readonly port: number;
  readonly host: string;
  /** `['*']` allows any origin. */
  readonly corsOrigins: readonly string[];
  readonly rateLimitRequests: number;
  readonly rateLimitWindowSeconds: number;
  // HTTP hardening (TRUST_PROXY, AUTH_FAILURE_LIMIT, API_KEYS_PER_TENANT, HTTP_REQUEST_TIMEOUT)
  /** Whose X-Forwarded-For is believed; false: nobody's (the client is the TCP peer). */
  readonly trustProxy: TrustedProxies;
  /** Failed authentications per client address per minute before 429. */
  readonly authFailureLimit: number;
  readonly apiKeysPerTenant: number;
  /** Time to receive a whole request (headers and body). */
  readonly requestTimeoutSeconds: number;
  /** How far ahead an email's scheduled_at may lie. */
  readonly scheduleMaxDays: number;
}

/** The retry fields are the queue's RetryPolicy (queue/retry-policy.ts). */
export interface QueueConfig {
  readonly workers: number;
  readonly retryAttempts: number;
  readonly retryDelaySeconds: number;
  readonly maxRetryDelaySeconds: number;
  readonly maxAgeSeconds: number;
  readonly delayNoticeSeconds: number;
}

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly pass: string | undefined;
  /** STARTTLS on 587 (and other ports), implicit TLS on 465. */
  readonly tls: boolean;
  readonly tlsVerify: boolean;
  readonly timeoutSeconds: number;
  readonly poolSize: number;
}

export interface WebhookConfig {
  /** Webhook requests in flight per process; 0 runs no webhook delivery here. */
  readonly workers: number;
  readonly endpointConcurrency: number;
  /** Divides the retry schedule (tests). */
  readonly retryDivisor: number;
  readonly disableAfterSeconds: number;
  readonly allowPrivate: boolean;
  readonly allowHttpHosts: readonly string[];
}

/** How long data is kept, in days; 0 keeps it forever. */
export interface RetentionConfig {
  /** Email content: html, text, attachments, template data. */
  readonly contentDays: number;
  /** The email row itself, its events and recipient outcomes. */
  readonly metadataDays: number;
  readonly auditDays: number;
}

/** What `migrate` needs: the database and logging only (no API key, no SMTP). */
export interface MigrateConfig {
  readonly database: DatabaseSettings;
  readonly log: LogConfig;
}

/** What `worker` needs: the queue and SMTP, but no API key or HTTP settings. */
export interface WorkerConfig extends MigrateConfig {
  readonly queue: QueueConfig;
  readonly smtp: SmtpConfig;
  readonly webhooks: WebhookConfig;
  readonly retention: RetentionConfig;
}

/** What `serve` needs. */
export interface ServiceConfig extends WorkerConfig {
  readonly apiKey: string;
  readonly http: HttpConfig;
}

export function loadLogConfig(env: Env): LogConfig {
  const read = appEnvironmentReader(env);
  return Object.freeze({ level: read.value('LOG_LEVEL'), format: read.value('LOG_FORMAT') });
}

export function loadMigrateConfig(env: Env): MigrateConfig {
  return Object.freeze({ database: parseDatabaseSettings(env), log: loadLogConfig(env) });
}

export function loadServiceConfig(env: Env): ServiceConfig {
  const read = appEnvironmentReader(env);
  return Object.freeze({
    ...loadWorkerConfig(env),
    apiKey: read.value('API_KEY'),
    http: Object.freeze({
      port: read.value('PORT'),
      host: read.value('HOST'),
      corsOrigins: read.value('CORS_ORIGINS'),
      rateLimitRequests: read.value('RATE_LIMIT_REQUESTS'),
      rateLimitWindowSeconds: read.value('RATE_LIMIT_WINDOW'),
      // HTTP hardening
      trustProxy: parseTrustedProxies(read.value('TRUST_PROXY')),
      authFailureLimit: read.value('AUTH_FAILURE_LIMIT'),
      apiKeysPerTenant: read.value('API_KEYS_PER_TENANT'),
      requestTimeoutSeconds: read.value('HTTP_REQUEST_TIMEOUT'),
      scheduleMaxDays: read.value('SCHEDULED_SEND_MAX_DAYS'),
    }),
  });
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const read = appEnvironmentReader(env);
  return Object.freeze({
    ...loadMigrateConfig(env),
    queue: Object.freeze({
      workers: read.value('QUEUE_WORKERS'),
      retryAttempts: read.value('QUEUE_RETRY_ATTEMPTS'),
      retryDelaySeconds: read.value('QUEUE_RETRY_DELAY'),
      maxRetryDelaySeconds: read.value('QUEUE_MAX_RETRY_DELAY'),
      maxAgeSeconds: read.value('QUEUE_MAX_AGE'),
      delayNoticeSeconds: read.value('QUEUE_DELAY_NOTICE'),
    }),
    smtp: Object.freeze(
      checkSmtpCredentialsEncrypted(
        {
          host: read.value('SMTP_HOST'),
          port: read.value('SMTP_PORT'),
          user: read.value('SMTP_USER'),
          pass: read.value('SMTP_PASS'),
          tls: read.value('SMTP_TLS'),
          tlsVerify: read.value('SMTP_TLS_VERIFY'),
          timeoutSeconds: read.value('SMTP_TIMEOUT'),
          poolSize: read.value('SMTP_POOL_SIZE'),
        },
        read.value('SMTP_ALLOW_PLAIN_AUTH'),
      ),
    ),
    webhooks: loadWebhookConfig(env),
    retention: loadRetentionConfig(env),
  });
}

export function loadRetentionConfig(env: Env): RetentionConfig {
  const read = appEnvironmentReader(env);
  const contentDays = read.value('RETENTION_DAYS');
  const metadataDays = read.value('METADATA_RETENTION_DAYS');
  // Deleting an email deletes its content too: metadata cannot outlive nothing, nor go first.
  if (metadataDays !== 0 && (contentDays === 0 || metadataDays < contentDays)) {
    throw new ConfigError(
      'METADATA_RETENTION_DAYS',
      `is ${metadataDays} but must be 0 (keep forever) or at least RETENTION_DAYS (${contentDays === 0 ? '0, keep forever: set METADATA_RETENTION_DAYS=0 too' : contentDays}), since deleting an email deletes its content`,
    );
  }
  return Object.freeze({
    contentDays,
    metadataDays,
    auditDays: read.value('AUDIT_RETENTION_DAYS'),
  });
}

function loadWebhookConfig(env: Env): WebhookConfig {
  const read = appEnvironmentReader(env);
  return Object.freeze({
    workers: read.value('WEBHOOK_WORKERS'),
    endpointConcurrency: read.value('WEBHOOK_ENDPOINT_CONCURRENCY'),
    retryDivisor: read.value('WEBHOOK_RETRY_DIVISOR'),
    disableAfterSeconds: read.value('WEBHOOK_DISABLE_AFTER'),
    allowPrivate: read.value('WEBHOOK_ALLOW_PRIVATE'),
    allowHttpHosts: read.value('WEBHOOK_ALLOW_HTTP_HOSTS').map((host) => host.toLowerCase()),
  });
}

/** APP_DB_PASSWORD, read by `migrate` only (see MigrateUpOptions). */
export function loadAppRolePassword(env: Env): string | undefined {
  return appEnvironmentReader(env).value('APP_DB_PASSWORD');
}

/** What `migrate` sets: APP_DB_USER's password, from APP_DB_PASSWORD. */
export interface AppRoleLogin {
  readonly user: AppRoleMember;
  readonly password: string;
}

/** APP_DB_USER and APP_DB_PASSWORD, read by `migrate` only: undefined without a password. */
export function loadAppRoleLogin(env: Env): AppRoleLogin | undefined {
  const password = loadAppRolePassword(env);
  if (password === undefined) return undefined;
  return Object.freeze({ user: appEnvironmentReader(env).value('APP_DB_USER'), password });
}
