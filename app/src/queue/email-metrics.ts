import type pg from 'pg';
import { Counter, Gauge, register } from 'prom-client';
import { queueDepthOf } from './queue-depth.js';
import { QUEUE_DEPTH_CAP } from './queue-store.js';

/** Prometheus metrics of the email lifecycle (default registry, served by GET /metrics). */

export const emailsAccepted = new Counter({
  name: 'selfmx_emails_total',
  help: 'Emails accepted by the API and committed to the queue',
  registers: [register],
});

export const emailsDelivered = new Counter({
  name: 'selfmx_emails_delivered_total',
  help: 'Emails the SMTP relay accepted (250)',
  registers: [register],
});

export const emailsBounced = new Counter({
  name: 'selfmx_emails_bounced_total',
  help: 'Emails the SMTP relay refused permanently (5xx)',
  registers: [register],
});

export const emailsFailed = new Counter({
  name: 'selfmx_emails_failed_total',
  help: 'Emails given up on: retries exhausted, or a message that cannot be built',
  registers: [register],
});

export const emailsDelayed = new Counter({
  name: 'selfmx_emails_delayed_total',
  help: 'Emails still undelivered past QUEUE_DELAY_NOTICE (one delivery_delayed event each)',
  registers: [register],
});

export const recipientsSuppressed = new Counter({
  name: 'selfmx_recipients_suppressed_total',
  help: 'Recipients skipped because they are on their tenant suppression list (relay not contacted)',
  registers: [register],
});

/** Scrapes must stay fast even when the database is slow: keep the last value past this. */
const QUEUE_DEPTH_TIMEOUT_MS = 2000;
let queueDepthSource: Pick<pg.Pool, 'query'> | undefined;

export const emailsQueued = new Gauge({
  name: 'selfmx_emails_queued',
  help: `Emails waiting in the queue (status 'queued', due or backing off; counted up to ${QUEUE_DEPTH_CAP}), at most 1 s old`,
  registers: [register],
  async collect() {
    if (!queueDepthSource) return;
    const depth = await withTimeout(queueDepthOf(queueDepthSource).read(), QUEUE_DEPTH_TIMEOUT_MS);
    if (depth !== undefined) this.set(depth);
  },
});

/** For the API: count an email once it is committed. */
export function countAcceptedEmail(count = 1): void {
  emailsAccepted.inc(count);
}

/** selfmx_emails_queued reads the queue depth through this pool. */
export function trackQueueDepth(pool: Pick<pg.Pool, 'query'>): void {
  queueDepthSource = pool;
}

async function withTimeout<T>(promise: Promise<T>, milliseconds: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), milliseconds);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
