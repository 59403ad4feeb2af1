import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Resend } from 'resend';
import {
  type ApiServer,
  BOOTSTRAP_KEY,
  startApiServer,
  startMigratedPostgres,
} from '../api/api-harness.js';
import type { TestPostgres } from '../support/postgres.js';

export interface WebhookTestServer {
  readonly postgres: TestPostgres;
  readonly server: ApiServer;
}

/**
 * PostgreSQL and an API server that may call endpoints on 127.0.0.1, started before the
 * enclosing suite's tests and stopped after them.
 */
export function useWebhookTestServer(overrides: Record<string, string> = {}): WebhookTestServer {
  let postgres: TestPostgres | undefined;
  let server: ApiServer | undefined;
  before(async () => {
    postgres = await startMigratedPostgres();
    server = await startApiServer(postgres, {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
      ...overrides,
    });
  });
  after(async () => {
    await server?.close();
    await postgres?.destroy();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the webhook test server is used before it started');
    return value;
  };
  return {
    get postgres() {
      return started(postgres);
    },
    get server() {
      return started(server);
    },
  };
}

/**
 * An endpoint subscribed to email.sent, created through the API as a tenant would (the Resend
 * SDK). By default its address has no listener: for tests that write its events themselves.
 */
export async function createWebhookEndpoint(
  server: ApiServer,
  endpoint = 'http://127.0.0.1:9/hook',
): Promise<{ webhookId: string; secret: string }> {
  const resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${server.url}/v1` });
  const created = await resend.webhooks.create({ endpoint, events: ['email.sent'] });
  assert.equal(created.error, null, JSON.stringify(created.error));
  return { webhookId: created.data?.id ?? '', secret: created.data?.signing_secret ?? '' };
}
