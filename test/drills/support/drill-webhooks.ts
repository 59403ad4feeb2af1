import assert from 'node:assert/strict';
import type { AppProcess } from '../../support/app-process.js';
import type { WebhookReceiver } from '../../webhooks/webhook-receiver.js';

/** What a drill's app needs to deliver webhooks to a receiver on 127.0.0.1. */
export const WEBHOOK_DRILL_SETTINGS: Readonly<Record<string, string>> = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
  WEBHOOK_RETRY_DIVISOR: '1000',
};

/** Subscribes `receiver` to `events` through the API and gives it the signing secret. */
export async function subscribeWebhook(
  app: AppProcess,
  apiKey: string,
  receiver: WebhookReceiver,
  events: readonly string[],
): Promise<string> {
  const response = await fetch(`${app.url}/v1/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint: receiver.url, events }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { id?: string; signing_secret?: string };
  assert.equal(response.status < 300, true, `webhook not created: ${JSON.stringify(body)}`);
  receiver.secret = body.signing_secret ?? '';
  return body.id ?? '';
}
