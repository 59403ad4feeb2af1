import type pg from 'pg';
import { Counter, Gauge, register } from 'prom-client';
import { countWebhookBacklog } from './webhook-outbox.js';

/** Prometheus metrics of webhook delivery (default registry, served by GET /metrics). */

export const webhookAttempts = new Counter({
  name: 'selfmx_webhook_attempts_total',
  help: 'Webhook requests by outcome: success (2xx), failure (any other answer or none), refused (the address is not allowed)',
  labelNames: ['outcome'] as const,
  registers: [register],
});

export const webhookEndpointsDisabled = new Counter({
  name: 'selfmx_webhook_endpoints_disabled_total',
  help: 'Webhook endpoints disabled after failing every attempt for WEBHOOK_DISABLE_AFTER',
  registers: [register],
});

const BACKLOG_TIMEOUT_MS = 2000;
let backlogSource: Pick<pg.Pool, 'query'> | undefined;

export const webhookBacklog = new Gauge({
  name: 'selfmx_webhook_outbox_backlog',
  help: 'Webhook events not yet delivered (pending or being attempted), read at scrape time',
  registers: [register],
  async collect() {
    if (!backlogSource) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), BACKLOG_TIMEOUT_MS);
    });
    const backlog = await Promise.race([
      countWebhookBacklog(backlogSource).catch(() => undefined),
      timeout,
    ]);
    clearTimeout(timer);
    if (backlog !== undefined) this.set(backlog);
  },
});

/** selfmx_webhook_outbox_backlog reads the outbox through this pool. */
export function trackWebhookBacklog(pool: Pick<pg.Pool, 'query'>): void {
  backlogSource = pool;
}
