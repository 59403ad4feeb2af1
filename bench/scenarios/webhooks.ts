import { appVariable } from '../../app/src/config/app-environment-spec.js';
import { clearEmails } from '../lib/backlog.js';
import { measureNodemailerBaseline } from '../lib/baseline-smtp.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { startDeadEndpoint } from '../lib/dead-endpoint.js';
import {
  type BenchEnvironment,
  type RunningService,
  SMTP_POOL_SIZE,
  startService,
} from '../lib/environment.js';
import { ownCpuMs, readProcessCpuMs } from '../lib/proc-cpu.js';
import { median, ratio, round } from '../lib/stats.js';
import { timeBacklogDelivery } from '../lib/timed-delivery.js';
import { runWebhookPostLoop } from '../lib/webhook-post-loop.js';
import { startWebhookReceiver, type WebhookReceiver } from '../lib/webhook-receiver.js';

export interface WebhookOptions {
  /** Emails delivered to fill the outbox before each timed drain (an email.delivered each). */
  outboxEmails: number;
  /** Baseline and SelfMX drains alternate this many times. */
  rounds: number;
  /** The email backlog of each delivery run with and without a dead endpoint. */
  deliveryBacklog: number;
  deliveryRounds: number;
  /** QUEUE_WORKERS of the delivery runs (delivery_ratio_w4's 4). */
  queueWorkers: number;
}

export interface WebhookResult {
  /** Events drained in each round. */
  readonly events: number;
  /** In flight at once to the one endpoint: min(WEBHOOK_WORKERS, WEBHOOK_ENDPOINT_CONCURRENCY). */
  readonly concurrency: number;
  readonly payload_bytes: number;
  readonly selfmx_per_second: number[];
  readonly baseline_per_second: number[];
  /** CPU ms per event of each SelfMX drain: the app, PostgreSQL, the bench (the receiver). */
  readonly selfmx_cpu_ms: Record<string, number>[];
  /** CPU ms per POST of each bare loop: the loop's process, the bench (the receiver). */
  readonly baseline_cpu_ms: Record<string, number>[];
  /** Connections each SelfMX drain opened to the receiver. */
  readonly selfmx_connections: number[];
  /** median SelfMX webhook deliveries/s ÷ median bare POSTs/s, at the receiver. */
  readonly webhook_ratio: number;
  readonly delivery_backlog: number;
  readonly nodemailer_per_second: number[];
  readonly delivered_per_second_without_webhooks: number[];
  readonly delivered_per_second_with_dead_webhook: number[];
  /** Outbox events still pending when each dead-endpoint backlog had been delivered. */
  readonly dead_webhook_events_waiting: number[];
  /** median delivered/s with a dead endpoint subscribed ÷ median nodemailer alone. */
  readonly delivery_ratio_w4_dead_webhook: number;
  /** The same without any webhook, measured alongside (delivery_ratio_w4 again). */
  readonly delivery_ratio_w4_no_webhook: number;
  /** median with the dead endpoint ÷ median without webhooks. */
  readonly dead_webhook_vs_none: number;
}

const EVENTS = ['email.sent', 'email.delivered'];
const ALLOW_LOCAL_ENDPOINTS = {
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
};

/**
 * Two figures for the webhook outbox.
 * webhook_ratio: a service with 4 queue workers and none for webhooks delivers `outboxEmails`
 * emails with an endpoint subscribed to email.sent and email.delivered; a fresh service with the
 * default WEBHOOK_* settings and no queue workers then drains that outbox to a local receiver,
 * timed there (first to last request). The baseline is a bare loop of the same number of POSTs,
 * same signed payload, same receiver, same concurrency, in a process of its own as the app is.
 * Rounds alternate.
 * delivery_ratio_w4_dead_webhook: backlogs delivered by 4 workers with an endpoint subscribed
 * that accepts TCP and never answers (every attempt waits out its timeout), against nodemailer
 * alone and against no webhook at all, alternating.
 */
export async function measureWebhooks(
  env: BenchEnvironment,
  options: WebhookOptions,
): Promise<WebhookResult> {
  const receiver = await startWebhookReceiver();
  const dead = await startDeadEndpoint();
  try {
    const drains = await measureWebhookDrain(env, receiver, options);
    const delivery = await measureDeadEndpointDelivery(env, dead.url, options);
    return { ...drains, ...delivery };
  } finally {
    await receiver.close();
    await dead.close();
  }
}

export async function measureWebhookDrain(
  env: BenchEnvironment,
  receiver: WebhookReceiver,
  options: WebhookOptions,
) {
  const concurrency = Math.min(
    appVariable('WEBHOOK_WORKERS').default,
    appVariable('WEBHOOK_ENDPOINT_CONCURRENCY').default,
  );
  const steadyRate = () =>
    receiver.received > 1 && receiver.firstAt !== undefined && receiver.lastAt !== undefined
      ? (receiver.received - 1) / ((receiver.lastAt - receiver.firstAt) / 1000)
      : 0;
  const filler = await startService(env, {
    QUEUE_WORKERS: String(options.queueWorkers),
    WEBHOOK_WORKERS: '0',
    ...ALLOW_LOCAL_ENDPOINTS,
  });
  const selfmx: number[] = [];
  const baseline: number[] = [];
  const selfmxCpu: Record<string, number>[] = [];
  const baselineCpu: Record<string, number>[] = [];
  const selfmxConnections: number[] = [];
  let payloadBytes = 0;
  let events = 0;
  try {
    const webhook = await createWebhook(env, filler, receiver.url);
    for (let roundIndex = 0; roundIndex < options.rounds; roundIndex++) {
      await timeBacklogDelivery(env.pool, env.sink, options.outboxEmails);
      // A backlog row is committed queued, without the acceptance's email.sent: one
      // email.delivered event per email.
      const pending = await pendingEvents(env);
      if (pending.count < options.outboxEmails) {
        throw new Error(
          `webhook outbox holds ${pending.count} events for ${options.outboxEmails} emails`,
        );
      }
      events = pending.count;
      payloadBytes = Buffer.byteLength(pending.samplePayload);

      receiver.reset();
      const baselineMeter = startCpuMeter({ bench: ownCpuMs });
      const loop = await runWebhookPostLoop({
        url: receiver.url,
        body: pending.samplePayload,
        secret: webhook.secret,
        count: events,
        concurrency,
      });
      baseline.push(steadyRate());
      baselineCpu.push({ loop: round(loop.cpuMs, 3), ...baselineMeter(events) });

      receiver.reset();
      const drainer = await startService(env, { QUEUE_WORKERS: '0', ...ALLOW_LOCAL_ENDPOINTS });
      try {
        // From here on: the app's start-up is not part of the figure.
        const sentBefore = receiver.received;
        const meter = startCpuMeter({
          app: () => readProcessCpuMs(drainer.app.pid),
          postgres: env.postgresCpuMs,
          bench: ownCpuMs,
        });
        await receiver.waitFor(events, 60_000 + events * 20);
        selfmxCpu.push(meter(events - sentBefore));
        selfmx.push(steadyRate());
        selfmxConnections.push(receiver.connections);
      } finally {
        await drainer.stop();
      }
    }
    await deleteWebhook(env, filler, webhook.id);
  } finally {
    await filler.stop();
    await clearEmails(env.pool);
  }
  return {
    events,
    concurrency,
    payload_bytes: payloadBytes,
    selfmx_per_second: selfmx.map((rate) => round(rate, 1)),
    baseline_per_second: baseline.map((rate) => round(rate, 1)),
    selfmx_cpu_ms: selfmxCpu,
    baseline_cpu_ms: baselineCpu,
    selfmx_connections: selfmxConnections,
    webhook_ratio: ratio(median(selfmx), median(baseline)),
  };
}

async function measureDeadEndpointDelivery(
  env: BenchEnvironment,
  deadUrl: string,
  options: WebhookOptions,
) {
  const nodemailer: number[] = [];
  const without: number[] = [];
  const withDead: number[] = [];
  const waiting: number[] = [];
  const service = await startService(env, {
    QUEUE_WORKERS: String(options.queueWorkers),
    ...ALLOW_LOCAL_ENDPOINTS,
  });
  try {
    // One uncounted backlog warms the JIT, the SMTP pool and PostgreSQL's caches.
    await timeBacklogDelivery(env.pool, env.sink, Math.min(2000, options.deliveryBacklog));
    for (let roundIndex = 0; roundIndex < options.deliveryRounds; roundIndex++) {
      const baseline = await measureNodemailerBaseline(
        env.sink,
        SMTP_POOL_SIZE,
        options.deliveryBacklog,
      );
      nodemailer.push(baseline.perSecond);
      without.push(
        (await timeBacklogDelivery(env.pool, env.sink, options.deliveryBacklog)).perSecond,
      );
      const webhook = await createWebhook(env, service, deadUrl);
      withDead.push(
        (await timeBacklogDelivery(env.pool, env.sink, options.deliveryBacklog)).perSecond,
      );
      waiting.push((await pendingEvents(env)).count);
      // Deleting the endpoint drops its outbox, so the next round starts clean.
      await deleteWebhook(env, service, webhook.id);
    }
  } finally {
    await service.stop();
    await clearEmails(env.pool);
  }
  return {
    delivery_backlog: options.deliveryBacklog,
    nodemailer_per_second: nodemailer.map((rate) => round(rate, 1)),
    delivered_per_second_without_webhooks: without.map((rate) => round(rate, 1)),
    delivered_per_second_with_dead_webhook: withDead.map((rate) => round(rate, 1)),
    dead_webhook_events_waiting: waiting,
    delivery_ratio_w4_dead_webhook: ratio(median(withDead), median(nodemailer)),
    delivery_ratio_w4_no_webhook: ratio(median(without), median(nodemailer)),
    dead_webhook_vs_none: ratio(median(withDead), median(without)),
  };
}

async function api(
  env: BenchEnvironment,
  service: RunningService,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${service.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${env.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function createWebhook(
  env: BenchEnvironment,
  service: RunningService,
  endpoint: string,
): Promise<{ id: string; secret: string }> {
  const created = await api(env, service, 'POST', '/v1/webhooks', { endpoint, events: EVENTS });
  return { id: String(created.id), secret: String(created.signing_secret) };
}

async function deleteWebhook(env: BenchEnvironment, service: RunningService, id: string) {
  await api(env, service, 'DELETE', `/v1/webhooks/${id}`);
}

/** Events not yet delivered, and one payload serialized as a worker sends it. */
async function pendingEvents(env: BenchEnvironment) {
  const { rows } = await env.pool.query<{ n: number; payload: Record<string, unknown> | null }>(
    `SELECT count(*)::int AS n,
            (SELECT payload FROM webhook_events WHERE status = 'pending' LIMIT 1) AS payload
       FROM webhook_events WHERE status IN ('pending', 'attempting')`,
  );
  return { count: rows[0]?.n ?? 0, samplePayload: JSON.stringify(rows[0]?.payload ?? {}) };
}
