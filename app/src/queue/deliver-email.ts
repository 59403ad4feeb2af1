import type pg from 'pg';
import type { Logger } from '../logger.js';
import { buildMessage, InvalidMessageError } from '../smtp/build-message.js';
import { bareAddress } from '../smtp/envelope.js';
import {
  asSmtpFailure,
  classifySmtpFailure,
  describeSmtpFailure,
  isConnectionFailure,
} from '../smtp/smtp-errors.js';
import { recordSmtpOk, recordSmtpUnreachable } from '../smtp/smtp-health.js';
import { smtpErrors, smtpSendDuration } from '../smtp/smtp-metrics.js';
import type { SmtpTransport } from '../smtp/transport.js';
import {
  emailsBounced,
  emailsDelayed,
  emailsDelivered,
  emailsFailed,
  recipientsSuppressed,
} from './email-metrics.js';
import type { Outcome, OutcomeReport } from './queue-store.js';
import type { QueuedEmail } from './queued-email.js';
import {
  type OutcomeEvent,
  planRecipients,
  type RecipientOutcome,
  type RecipientPlan,
  type RecipientSummary,
  SUPPRESSED_DETAIL,
  summariseRecipients,
} from './recipient-outcomes.js';
import { decideRetry, describeSeconds, type RetryPolicy } from './retry-policy.js';

export interface DeliveryContext {
  readonly pool: Pick<pg.Pool, 'query'>;
  readonly transport: SmtpTransport;
  readonly logger: Logger;
  readonly workerId: string;
  /** Records an outcome (batched with the other workers' outcomes); false: the lease was lost. */
  readonly recordOutcome: (report: OutcomeReport) => Promise<boolean>;
  readonly retry: RetryPolicy;
  /**
   * How long to keep trying to record an outcome while the database is unreachable (normally
   * the lease): the send already happened, and recording it late beats sending it again.
   */
  readonly recordOutcomeWithinMs: number;
}

/**
 * Delivering one claimed email is two steps, so that a worker can send its whole batch and then
 * record the outcomes together (queue-worker.ts): `sendClaimedEmail` tries the send and says
 * what happened (delivered; bounced on a 5xx; deferred with backoff on a transient failure;
 * failed when the attempts are used up or the message cannot be built), `recordDelivery`
 * records it. Neither throws: if the outcome cannot be recorded (the database stayed away), the
 * lease expires and the email is sent again (at-least-once).
 */
export async function recordDelivery(
  context: DeliveryContext,
  email: QueuedEmail,
  outcome: Outcome,
): Promise<void> {
  const about = { emailId: email.id, attempt: email.attempts, outcome: outcome.type };
  const recorded = await recordPatiently(context, email.id, outcome, about);
  if (recorded === 'lease-lost') {
    // Another worker reclaimed the email after our lease expired; it owns the outcome now.
    context.logger.warn(about, 'lease lost before the outcome was recorded');
    return;
  }
  if (recorded === 'gave-up') return;
  countOutcome(outcome);
  // Every outcome is in email_events (GET /v1/logs); the log adds the ones that need a look,
  // since a line per delivered email costs delivery throughput (docs/performance.md).
  const level = outcome.type === 'delivered' ? 'debug' : 'warn';
  context.logger[level]({ ...about, smtp: outcome.smtpResponse }, `email ${outcome.type}`);
}

/** Retries through a database outage (restart, failover) for up to recordOutcomeWithinMs. */
async function recordPatiently(
  context: DeliveryContext,
  emailId: string,
  outcome: Outcome,
  about: Record<string, unknown>,
): Promise<'recorded' | 'lease-lost' | 'gave-up'> {
  const deadline = Date.now() + context.recordOutcomeWithinMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const ours = await context.recordOutcome({ workerId: context.workerId, emailId, outcome });
      return ours ? 'recorded' : 'lease-lost';
    } catch (error) {
      const err = error instanceof Error ? error.message : String(error);
      const wait = Math.min(250 * 2 ** attempt, 5000);
      if (Date.now() + wait > deadline) {
        context.logger.error(
          { ...about, err },
          'could not record the delivery outcome; the email will be sent again when its lease expires',
        );
        return 'gave-up';
      }
      if (attempt === 0) context.logger.warn({ ...about, err }, 'recording the outcome: retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

export async function sendClaimedEmail(
  context: DeliveryContext,
  email: QueuedEmail,
): Promise<Outcome> {
  let message: ReturnType<typeof buildMessage>;
  try {
    message = buildMessage(email);
  } catch (error) {
    smtpErrors.inc({ kind: 'invalid' });
    const reason = error instanceof InvalidMessageError ? error.message : String(error);
    return { type: 'failed', smtpResponse: null, detail: `invalid message: ${reason}` };
  }

  const plan = planRecipients(email);
  if (plan.toSend.length === 0) return summarised(context, email, plan, false, []);
  // Recipients settled by an earlier attempt or suppressed stay in the headers, not the envelope.
  if (plan.partial) {
    message.envelope = { from: bareAddress(email.fromAddress), to: [...plan.toSend] };
  }

  const stopTimer = smtpSendDuration.startTimer();
  try {
    const info = await context.transport.sendMail(message);
    stopTimer({ outcome: 'delivered' });
    recordSmtpOk();
    const response = String(info.response ?? '');
    const refused = refusalsOf(info);
    return summarised(
      context,
      email,
      plan,
      true,
      plan.toSend.map(
        (address) =>
          refused.get(address.toLowerCase()) ?? {
            address,
            status: 'delivered',
            smtpResponse: response,
          },
      ),
    );
  } catch (error) {
    const failure = asSmtpFailure(error);
    const kind = classifySmtpFailure(failure);
    const reply = describeSmtpFailure(failure);
    stopTimer({ outcome: kind });
    smtpErrors.inc({ kind });
    if (isConnectionFailure(failure)) recordSmtpUnreachable(reply);
    else recordSmtpOk();

    if (kind === 'invalid')
      return { type: 'failed', smtpResponse: reply, detail: 'invalid message' };
    // Every recipient refused at RCPT: each by its own reply. Otherwise one answer for all.
    const refused = refusalsOf(error);
    const status = kind === 'permanent' ? 'bounced' : 'deferred';
    return summarised(
      context,
      email,
      plan,
      !isConnectionFailure(failure),
      plan.toSend.map(
        (address) => refused.get(address.toLowerCase()) ?? { address, status, smtpResponse: reply },
      ),
    );
  }
}

/** nodemailer's refused recipients (RCPT replies), each as bounced (5xx) or deferred. */
function refusalsOf(result: unknown): Map<string, RecipientOutcome> {
  const errors = (result as { rejectedErrors?: unknown } | null)?.rejectedErrors;
  const refused = new Map<string, RecipientOutcome>();
  if (!Array.isArray(errors)) return refused;
  for (const error of errors) {
    const recipient = (error as { recipient?: unknown }).recipient;
    if (typeof recipient !== 'string') continue;
    const failure = asSmtpFailure(error);
    refused.set(recipient.toLowerCase(), {
      address: recipient,
      status: classifySmtpFailure(failure) === 'permanent' ? 'bounced' : 'deferred',
      smtpResponse: describeSmtpFailure(failure),
    });
  }
  return refused;
}

/**
 * The email's outcome from its recipients'. Deferred ones are retried (retry-policy.ts) or fail
 * once the policy gives up. `relayAnswered`: the relay itself replied, so a deferral is a 4xx
 * answer that QUEUE_RETRY_ATTEMPTS counts, not an unreachable relay or a refused login.
 */
function summarised(
  context: DeliveryContext,
  email: QueuedEmail,
  plan: RecipientPlan,
  relayAnswered: boolean,
  attempt: readonly RecipientOutcome[],
): Outcome {
  const anyDeferred = attempt.some((o) => o.status === 'deferred');
  const answered = anyDeferred && relayAnswered;
  const decision = anyDeferred
    ? decideRetry(context.retry, {
        attempts: email.attempts,
        relayDeferrals: email.relayDeferrals + (answered ? 1 : 0),
        attemptingSince: email.attemptingSince,
        delayNoticeSent: email.delayNoticeSent,
        now: new Date(),
      })
    : undefined;
  const gaveUp = decision && !decision.retry ? decision.reason : undefined;
  const outcomes = gaveUp
    ? attempt.map((o) => (o.status === 'deferred' ? { ...o, status: 'failed' as const } : o))
    : attempt;
  const summary = summariseRecipients(plan, outcomes, gaveUp ? { failed: gaveUp } : {});
  if (plan.suppressed.length > 0) recipientsSuppressed.inc(plan.suppressed.length);
  const perRecipient = { events: summary.events, recipients: summary.recipients };
  const smtpResponse = summary.smtpResponse ?? '';
  switch (summary.status) {
    case 'deferred': {
      const retryInSeconds = decision?.retry ? decision.retryInSeconds : 0;
      const delayNotice = decision?.retry === true && decision.delayNotice;
      if (delayNotice) emailsDelayed.inc();
      return {
        type: 'deferred',
        smtpResponse,
        retryInSeconds,
        relayAnswered: answered,
        delayNotice,
        perRecipient: delayNotice
          ? { ...perRecipient, events: [...summary.events, delayedEvent(email, summary)] }
          : perRecipient,
      };
    }
    case 'delivered':
      return { type: 'delivered', smtpResponse, perRecipient };
    case 'bounced':
      return { type: 'bounced', smtpResponse, perRecipient };
    case 'failed':
      return {
        type: 'failed',
        smtpResponse: summary.smtpResponse,
        detail: gaveUp ?? 'every recipient failed',
        perRecipient,
      };
    case 'suppressed':
      return { type: 'suppressed', smtpResponse: null, detail: SUPPRESSED_DETAIL, perRecipient };
  }
}

/** `delivery_delayed` (webhook `email.delivery_delayed`), about the recipients still waiting. */
function delayedEvent(email: QueuedEmail, summary: RecipientSummary): OutcomeEvent {
  const deferred = summary.events.find((event) => event.type === 'deferred');
  const waited = (Date.now() - email.attemptingSince.getTime()) / 1000;
  return {
    type: 'delivery_delayed',
    recipients: deferred?.recipients ?? null,
    smtpResponse: deferred?.smtpResponse ?? null,
    detail: `not delivered after trying for ${describeSeconds(waited)}; still retrying`,
  };
}

function countOutcome(outcome: Outcome): void {
  if (outcome.type === 'delivered') emailsDelivered.inc();
  else if (outcome.type === 'bounced') emailsBounced.inc();
  else if (outcome.type === 'failed') emailsFailed.inc();
}
