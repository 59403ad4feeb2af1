import type pg from 'pg';
import type { WebhookConfig } from '../config/app-config.js';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import type { Logger } from '../logger.js';
import { nextRetrySeconds } from './retry-schedule.js';
import { sendWebhook, WEBHOOK_TIMEOUT_MS } from './send-webhook.js';
import { signWebhook } from './signing-secret.js';
import {
  trackWebhookBacklog,
  webhookAttempts,
  webhookEndpointsDisabled,
} from './webhook-metrics.js';
import {
  type AttemptOutcome,
  type AttemptResult,
  type ClaimedWebhookEvent,
  claimWebhookEvents,
  type RecordedAttempt,
  recordWebhookAttempts,
  releaseWebhookEvents,
} from './webhook-outbox.js';

export interface WebhookTuning {
  /** How often idle workers look for due events. */
  readonly pollIntervalMs: number;
  /**
   * Events of a healthy endpoint claimed together and sent one after another on one of its
   * request slots: one claim round trip serves many requests.
   */
  readonly runLength: number;
}

export const DEFAULT_WEBHOOK_TUNING: WebhookTuning = Object.freeze({
  pollIntervalMs: 1000,
  runLength: 64,
});

/** A claim outlives the request's timeout, so only a dead process lets an event be reclaimed. */
const CLAIM_SECONDS = WEBHOOK_TIMEOUT_MS / 1000 + 20;
/**
 * A run starts its next request only while that request, timing out, would still end well
 * before the claim expires; the rest of a slow run is given back and claimed afresh.
 */
const LAST_START_MS = CLAIM_SECONDS * 1000 - WEBHOOK_TIMEOUT_MS - 5000;
const RESPONSE_KEPT = 1000;
const OUTCOME_BATCH: BatchLimits = { maxBatch: 64, maxInFlight: 1 };

export interface WebhookWorkers {
  /** Stops claiming and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * Delivers the webhook outbox apart from the email queue: one loop claims runs of due events
 * while fewer than WEBHOOK_WORKERS runs are going (at most WEBHOOK_ENDPOINT_CONCURRENCY per
 * endpoint). A run sends its events one after another, so each run is one request in flight, and
 * runs go on their own: a slow or dead endpoint holds only its own few slots and never the email
 * workers.
 */
export function startWebhookWorkers(options: {
  pool: pg.Pool;
  config: WebhookConfig;
  logger: Logger;
  tuning?: Partial<WebhookTuning>;
}): WebhookWorkers {
  const { pool, config } = options;
  const tuning = { ...DEFAULT_WEBHOOK_TUNING, ...options.tuning };
  const logger = options.logger.child({ component: 'webhooks' });
  trackWebhookBacklog(pool);
  if (config.workers === 0) return { stop: async () => {} };

  // Attempts that end together share one statement (and one commit).
  const outcomes = new StatementBatcher<AttemptOutcome, RecordedAttempt>(
    (batch) => recordWebhookAttempts(pool, batch),
    OUTCOME_BATCH,
    batchWaitOf(pool),
  );

  // The runs going: each has one request in flight at most.
  const inFlight = new Set<Promise<void>>();
  // Events whose request has ended and whose outcome is being recorded: no longer in flight, so
  // the claim does not count them against their endpoint's WEBHOOK_ENDPOINT_CONCURRENCY.
  const recordings = new Map<string, Promise<void>>();
  let stopped = false;
  let wake: (() => void) | undefined;
  // A request that ends while the loop is claiming frees a slot that claim did not see.
  let woken = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      woken = false;
      const free = config.workers - inFlight.size;
      const claimedAt = performance.now();
      let claimed: ClaimedWebhookEvent[][] = [];
      if (free > 0) {
        try {
          claimed = await claimWebhookEvents(pool, {
            runs: free,
            perEndpoint: config.endpointConcurrency,
            runLength: tuning.runLength,
            claimSeconds: CLAIM_SECONDS,
            finished: [...recordings.keys()],
          });
          failures = 0;
        } catch (error) {
          if (failures++ === 0) {
            logger.error({ err: errorText(error) }, 'cannot claim webhook events; retrying');
          }
        }
      }
      for (const run of claimed) {
        const running = sendRun(run, claimedAt + LAST_START_MS).finally(() => {
          inFlight.delete(running);
          woken = true;
          wake?.();
        });
        inFlight.add(running);
      }
      if (claimed.length === 0 || inFlight.size >= config.workers) {
        await sleep(tuning.pollIntervalMs);
      }
    }
  })();

  async function sendRun(run: ClaimedWebhookEvent[], startBefore: number): Promise<void> {
    for (const [index, event] of run.entries()) {
      if (stopped || performance.now() > startBefore) return release(run.slice(index));
      await deliver(event);
    }
  }

  async function release(events: ClaimedWebhookEvent[]): Promise<void> {
    try {
      await releaseWebhookEvents(pool, events);
    } catch (error) {
      // The claims expire and the events are attempted then.
      logger.error({ err: errorText(error) }, 'claimed webhook events not given back');
    }
  }

  /** The request; its outcome is then recorded while the slot already takes the next event. */
  async function deliver(event: ClaimedWebhookEvent): Promise<void> {
    try {
      const body = JSON.stringify(event.payload);
      const headers = signWebhook(event.secret, event.id, new Date(), body);
      const result = await sendWebhook({ url: event.url, body, headers }, config);
      webhookAttempts.inc({
        outcome: result.ok ? 'success' : result.refused ? 'refused' : 'failure',
      });
      const recording = record(event, result).finally(() => recordings.delete(event.id));
      recordings.set(event.id, recording);
    } catch (error) {
      // The claim expires and the event is attempted again.
      logger.error({ eventId: event.id, err: errorText(error) }, 'webhook delivery error');
    }
  }

  async function record(event: ClaimedWebhookEvent, result: AttemptResult): Promise<void> {
    try {
      const retryIn = result.ok ? undefined : nextRetrySeconds(event.attempts, config.retryDivisor);
      const recorded = await outcomes.submit({
        event,
        result: { ...result, response: result.response.slice(0, RESPONSE_KEPT) },
        retryInSeconds: retryIn,
        disableAfterSeconds: config.disableAfterSeconds,
      });
      if (recorded.disabled) endpointDisabled(event);
      if (!result.ok) {
        logger.warn(
          {
            webhookId: event.webhook_id,
            eventId: event.id,
            attempt: event.attempts,
            status: result.httpStatus,
          },
          retryIn === undefined ? 'webhook event failed for good' : 'webhook attempt failed',
        );
      }
    } catch (error) {
      // The claim expires and the event is attempted again.
      logger.error({ eventId: event.id, err: errorText(error) }, 'webhook outcome not recorded');
    }
  }

  function endpointDisabled(event: ClaimedWebhookEvent): void {
    webhookEndpointsDisabled.inc();
    logger.warn({ webhookId: event.webhook_id }, 'webhook endpoint disabled: every attempt failed');
  }

  logger.info(
    { workers: config.workers, perEndpoint: config.endpointConcurrency },
    'webhook workers started',
  );
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      await Promise.all(inFlight);
      await Promise.all(recordings.values());
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
