import type pg from 'pg';
import type { Logger } from '../logger.js';
import { buildMessage, InvalidMessageError } from '../smtp/build-message.js';
import {
  asSmtpFailure,
  classifySmtpFailure,
  describeSmtpFailure,
  isConnectionFailure,
} from '../smtp/smtp-errors.js';
import { recordSmtpOk, recordSmtpUnreachable } from '../smtp/smtp-health.js';
import { smtpErrors, smtpSendDuration } from '../smtp/smtp-metrics.js';
import type { SmtpTransport } from '../smtp/transport.js';
import { emailsBounced, emailsDelivered, emailsFailed } from './email-metrics.js';
import type { Outcome, OutcomeReport } from './queue-store.js';
import type { QueuedEmail } from './queued-email.js';
import { backoffSeconds, maxAttempts } from './retry-policy.js';

export interface DeliveryContext {
  readonly pool: Pick<pg.Pool, 'query'>;
  readonly transport: SmtpTransport;
  readonly logger: Logger;
  readonly workerId: string;
  /** Records an outcome (batched with the other workers' outcomes); false: the lease was lost. */
  readonly recordOutcome: (report: OutcomeReport) => Promise<boolean>;
  readonly retryAttempts: number;
  readonly retryDelaySeconds: number;
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

  const stopTimer = smtpSendDuration.startTimer();
  try {
    const info = await context.transport.sendMail(message);
    stopTimer({ outcome: 'delivered' });
    recordSmtpOk();
    const refused = (info.rejected ?? []).map(String);
    return {
      type: 'delivered',
      smtpResponse: String(info.response ?? ''),
      ...(refused.length > 0 ? { detail: `refused recipients: ${refused.join(', ')}` } : {}),
    };
  } catch (error) {
    const failure = asSmtpFailure(error);
    const kind = classifySmtpFailure(failure);
    const reply = describeSmtpFailure(failure);
    stopTimer({ outcome: kind });
    smtpErrors.inc({ kind });
    if (isConnectionFailure(failure)) recordSmtpUnreachable(reply);
    else recordSmtpOk();

    if (kind === 'permanent') return { type: 'bounced', smtpResponse: reply };
    if (kind === 'invalid')
      return { type: 'failed', smtpResponse: reply, detail: 'invalid message' };
    if (email.attempts >= maxAttempts(context.retryAttempts)) {
      return {
        type: 'failed',
        smtpResponse: reply,
        detail: `gave up after ${email.attempts} attempts (QUEUE_RETRY_ATTEMPTS=${context.retryAttempts})`,
      };
    }
    return {
      type: 'deferred',
      smtpResponse: reply,
      retryInSeconds: backoffSeconds(email.attempts, context.retryDelaySeconds),
    };
  }
}

function countOutcome(outcome: Outcome): void {
  if (outcome.type === 'delivered') emailsDelivered.inc();
  else if (outcome.type === 'bounced') emailsBounced.inc();
  else if (outcome.type === 'failed') emailsFailed.inc();
}
