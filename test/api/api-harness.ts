import { request as httpRequest } from 'node:http';
import { after, before } from 'node:test';
import type pg from 'pg';
import { generateApiKey } from '../../app/src/auth/api-key-secret.js';
import { ensureBootstrapKey } from '../../app/src/auth/bootstrap-key.js';
import { loadServiceConfig, type ServiceConfig } from '../../app/src/config/app-config.js';
import { createPool } from '../../app/src/db/pool.js';
import { buildServer } from '../../app/src/http/server.js';
import type { SmtpProbe } from '../../app/src/http/server-deps.js';
import { createLogger } from '../../app/src/logger.js';
import { migrateUp } from '../../app/src/migrate/index.js';
import { verifySmtp } from '../../app/src/smtp/verify.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

export const BOOTSTRAP_KEY = 'bootstrap-key-for-api-tests-0123456789';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON.
  body: any;
  text: string;
}

export interface CallOptions {
  /** Bearer key; `null` sends no Authorization header. @default the bootstrap key */
  key?: string | null;
  body?: unknown;
  /** Sent as is (for malformed JSON); wins over `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** An in-process SelfMX API on a real PostgreSQL 15 and a real TCP port. */
export interface ApiServer {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly config: ServiceConfig;
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** Starts a PostgreSQL 15 with the SelfMX schema and the bootstrap key. */
export async function startMigratedPostgres(): Promise<TestPostgres> {
  const postgres = await startPostgres({ database: 'selfmx' });
  const config = serviceConfig(postgres, {});
  await migrateUp(config.database, createLogger({ level: 'silent', format: 'json' }));
  return postgres;
}

/** What most API test suites run against; see useApiTestbed. */
export interface ApiTestbed {
  readonly postgres: TestPostgres;
  readonly server: ApiServer;
  /** A superuser client of the selfmx database, for assertions and direct inserts. */
  readonly db: pg.Client;
}

/**
 * Registers before/after hooks in the enclosing suite that start a migrated PostgreSQL 15, an
 * API server on it (`env` as for startApiServer) and a client of its database, and tear them
 * down. The fields are set once the suite's first before() has run; later before() hooks of the
 * suite can use them.
 */
export function useApiTestbed(
  env: Record<string, string> = { RATE_LIMIT_REQUESTS: '10000' },
): ApiTestbed {
  const testbed: { postgres?: TestPostgres; server?: ApiServer; db?: pg.Client } = {};
  before(async () => {
    testbed.postgres = await startMigratedPostgres();
    testbed.server = await startApiServer(testbed.postgres, env);
    testbed.db = await testbed.postgres.client('selfmx');
  });
  after(async () => {
    await testbed.db?.end();
    await testbed.server?.close();
    await testbed.postgres?.destroy();
  });
  return testbed as ApiTestbed;
}

export function serviceConfig(postgres: TestPostgres, env: Record<string, string>): ServiceConfig {
  return loadServiceConfig({
    DATABASE_URL: postgres.url('sslmode=disable'),
    API_KEY: BOOTSTRAP_KEY,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: '1',
    SMTP_TLS: 'false',
    SMTP_TIMEOUT: '2',
    LOG_LEVEL: 'silent',
    // Suites send bad keys on purpose, all from 127.0.0.1; the throttle has its own tests.
    AUTH_FAILURE_LIMIT: '1000000',
    ...env,
  });
}

/**
 * Builds the server the way `serve` does (real pool, bootstrap key, listening on 127.0.0.1 and
 * a free port), minus the queue workers. `env` overrides the app environment.
 */
export async function startApiServer(
  postgres: TestPostgres,
  env: Record<string, string> = {},
): Promise<ApiServer> {
  const config = serviceConfig(postgres, env);
  const logger = createLogger(config.log);
  const pool = createPool(config.database);
  await ensureBootstrapKey(pool, config.apiKey, logger);
  const smtp: SmtpProbe = {
    status: () => 'unknown',
    async verify() {
      const result = await verifySmtp(config.smtp);
      if (!result.ok) throw new Error(result.error);
    },
  };
  const app = await buildServer({ pool, config, logger, smtp });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    pool,
    config,
    call: (method, path, options) => call(url, method, path, options),
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? BOOTSTRAP_KEY : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Waits until `probe` returns a value other than undefined (PostgreSQL written off the request path). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  attempts = 300,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (attempt >= attempts) throw new Error(`still not there after ${attempts} attempts`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A minimal valid send request. */
export function email(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: 'Sender <sender@example.com>',
    to: 'rcpt@example.com',
    subject: 'Hello',
    text: 'Hello there',
    ...overrides,
  };
}

/** Creates an API key with these permissions through the API; returns its secret and id. */
export async function createKey(
  server: ApiServer,
  permissions: string[],
  key: string = BOOTSTRAP_KEY,
): Promise<{ token: string; id: string }> {
  const response = await server.call('POST', '/v1/api-keys', {
    key,
    body: { name: `key ${permissions.join(' ')}`, permissions },
  });
  if (response.status !== 201)
    throw new Error(`key creation failed: ${response.status} ${response.text}`);
  return { token: response.body.token, id: response.body.id };
}

/** A second tenant and one API key of it, inserted directly (as an operator's tooling would). */
export async function insertTenantWithKey(
  db: pg.Client,
  tenantName: string,
  permissions: string[],
): Promise<{ tenantId: string; token: string; keyId: string }> {
  const tenant = await db.query<{ id: string }>(
    'INSERT INTO tenants (name) VALUES ($1) RETURNING id',
    [tenantName],
  );
  const tenantId = tenant.rows[0]?.id as string;
  const { key: token, prefix, hash } = generateApiKey();
  const key = await db.query<{ id: string }>(
    `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, permissions)
     VALUES ($1, 'tenant key', $2, $3, $4) RETURNING id`,
    [tenantId, prefix, hash, permissions],
  );
  return { tenantId, token, keyId: key.rows[0]?.id as string };
}

/**
 * A POST that announces a body of `bytes` in Content-Length and waits for the answer without
 * uploading it. The server refuses an oversize body from its Content-Length and closes the
 * connection; a client still uploading may see that reset instead of the answer.
 */
export function announceBody(
  baseUrl: string,
  path: string,
  key: string,
  bytes: number,
): Promise<Pick<ApiResponse, 'status' | 'body' | 'text'>> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = httpRequest(
      new URL(path, baseUrl),
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': String(bytes),
        },
      },
      (response) => {
        answered = true;
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => {
          request.destroy();
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: response.statusCode ?? 0, text, body });
        });
      },
    );
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.flushHeaders();
  });
}
