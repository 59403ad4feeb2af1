import { type DatabaseSettings, parseDatabaseSettings } from '../db/database-settings.js';
import { ConfigError } from './config-error.js';
import { type Env, EnvReader } from './env-reader.js';

export type LogFormat = 'json' | 'text';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
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
}

export interface QueueConfig {
  readonly workers: number;
  readonly retryAttempts: number;
  readonly retryDelaySeconds: number;
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

/** What `migrate` needs: the database and logging only (no API key, no SMTP). */
export interface MigrateConfig {
  readonly database: DatabaseSettings;
  readonly log: LogConfig;
}

/** What `worker` needs: the queue and SMTP, but no API key or HTTP settings. */
export interface WorkerConfig extends MigrateConfig {
  readonly queue: QueueConfig;
  readonly smtp: SmtpConfig;
}

/** What `serve` needs. */
export interface ServiceConfig extends WorkerConfig {
  readonly apiKey: string;
  readonly http: HttpConfig;
}

export function loadLogConfig(env: Env): LogConfig {
  const read = new EnvReader(env);
  return Object.freeze({
    level: read.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    format: read.oneOf<LogFormat>('LOG_FORMAT', 'json', ['json', 'text']),
  });
}

export function loadMigrateConfig(env: Env): MigrateConfig {
  return Object.freeze({ database: parseDatabaseSettings(env), log: loadLogConfig(env) });
}

export function loadServiceConfig(env: Env): ServiceConfig {
  const read = new EnvReader(env);
  return Object.freeze({
    ...loadWorkerConfig(env),
    apiKey: readApiKey(read),
    http: Object.freeze({
      port: read.integer('PORT', 8080, { min: 0, max: 65535 }),
      host: read.string('HOST', '0.0.0.0'),
      corsOrigins: Object.freeze(
        read
          .string('CORS_ORIGINS', '*')
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
      rateLimitRequests: read.integer('RATE_LIMIT_REQUESTS', 100, { min: 1 }),
      rateLimitWindowSeconds: read.integer('RATE_LIMIT_WINDOW', 60, { min: 1 }),
    }),
  });
}

export function loadWorkerConfig(env: Env): WorkerConfig {
  const read = new EnvReader(env);
  const smtpPort = read.integer('SMTP_PORT', 587, { min: 1, max: 65535 });
  return Object.freeze({
    ...loadMigrateConfig(env),
    queue: Object.freeze({
      workers: read.integer('QUEUE_WORKERS', 4, { min: 0, max: 256 }),
      retryAttempts: read.integer('QUEUE_RETRY_ATTEMPTS', 3, { min: 0, max: 100 }),
      retryDelaySeconds: read.integer('QUEUE_RETRY_DELAY', 60, { min: 1 }),
    }),
    smtp: Object.freeze({
      host: read.required(
        'SMTP_HOST',
        'set it to your SMTP relay host name (e.g. smtp.example.com)',
      ),
      port: smtpPort,
      user: read.optional('SMTP_USER'),
      pass: read.optional('SMTP_PASS'),
      tls: read.boolean('SMTP_TLS', true),
      tlsVerify: read.boolean('SMTP_TLS_VERIFY', true),
      timeoutSeconds: read.integer('SMTP_TIMEOUT', 30, { min: 1 }),
      poolSize: read.integer('SMTP_POOL_SIZE', 10, { min: 1, max: 1000 }),
    }),
  });
}

/** The bootstrap admin key: long enough that it cannot be guessed. */
function readApiKey(read: EnvReader): string {
  const key = read.required('API_KEY', 'set it to a random secret of at least 16 characters');
  if (key.length < 16) {
    throw new ConfigError(
      'API_KEY',
      'must be at least 16 characters; generate one with `openssl rand -hex 32`',
    );
  }
  return key;
}
