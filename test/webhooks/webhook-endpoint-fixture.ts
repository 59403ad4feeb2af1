import assert from 'node:assert/strict';
import { Resend } from 'resend';
import { type ApiServer, BOOTSTRAP_KEY } from '../api/api-harness.js';

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
