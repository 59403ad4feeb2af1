import { bareAddress, envelopeRecipients } from '../smtp/envelope.js';
import type { QueuedEmail } from './queued-email.js';

/** What became of one recipient in one attempt. */
export type RecipientStatus = 'delivered' | 'deferred' | 'bounced' | 'suppressed' | 'failed';

export interface RecipientOutcome {
  readonly address: string;
  readonly status: RecipientStatus;
  readonly smtpResponse: string | null;
}

/** One email_events row of an attempt: its recipients, or null when it is about all of them. */
export interface OutcomeEvent {
  readonly type: RecipientStatus | 'delivery_delayed';
  readonly recipients: readonly string[] | null;
  readonly smtpResponse: string | null;
  readonly detail: string | null;
}

/** An email's recipients for this attempt: who to send to, who is skipped as suppressed. */
export interface RecipientPlan {
  /** Every envelope recipient of the email, once each. */
  readonly everyone: readonly string[];
  /** Recipients an earlier attempt settled (not deferred), lower case -> status. */
  readonly settled: ReadonlyMap<string, RecipientStatus>;
  readonly suppressed: readonly string[];
  readonly toSend: readonly string[];
  /** True when the envelope is not the message's own recipients (some are skipped). */
  readonly partial: boolean;
}

const SETTLED: ReadonlySet<string> = new Set(['delivered', 'bounced', 'suppressed', 'failed']);

export function planRecipients(email: QueuedEmail): RecipientPlan {
  const everyone = envelopeRecipients([
    ...email.toAddresses,
    ...email.ccAddresses,
    ...email.bccAddresses,
  ]);
  const settled = new Map<string, RecipientStatus>();
  for (const [address, status] of Object.entries(email.recipientStatuses)) {
    if (SETTLED.has(status)) settled.set(address.toLowerCase(), status as RecipientStatus);
  }
  const onList = new Set(email.suppressedRecipients.map((m) => bareAddress(m).toLowerCase()));
  const pending = everyone.filter((address) => !settled.has(address.toLowerCase()));
  const suppressed = pending.filter((address) => onList.has(address.toLowerCase()));
  const toSend = pending.filter((address) => !onList.has(address.toLowerCase()));
  return { everyone, settled, suppressed, toSend, partial: toSend.length < everyone.length };
}

/** The email-level summary of its recipients' outcomes, and what to record. */
export interface RecipientSummary {
  readonly status: 'deferred' | 'delivered' | 'bounced' | 'failed' | 'suppressed';
  /** This attempt's per-recipient rows; null when they all share the email's status. */
  readonly recipients: readonly RecipientOutcome[] | null;
  readonly events: readonly OutcomeEvent[];
  /** The reply that explains the status (the first deferred, bounced or failed one). */
  readonly smtpResponse: string | null;
}

export const SUPPRESSED_DETAIL =
  'the address is on the suppression list; the relay was not contacted';

/**
 * Summarises an email from its recipients: queued again while any is deferred, else delivered
 * when any was delivered, else bounced, failed, or suppressed (every recipient suppressed).
 */
export function summariseRecipients(
  plan: RecipientPlan,
  attempt: readonly RecipientOutcome[],
  details: Partial<Record<RecipientStatus, string>> = {},
): RecipientSummary {
  const outcomes: RecipientOutcome[] = [
    ...plan.suppressed.map((address) => ({
      address,
      status: 'suppressed' as const,
      smtpResponse: null,
    })),
    ...attempt,
  ];
  const statuses = new Set<RecipientStatus>([...plan.settled.values()]);
  for (const outcome of outcomes) statuses.add(outcome.status);
  const status = (['deferred', 'delivered', 'bounced', 'failed'] as const).find((s) =>
    statuses.has(s),
  );

  const groups = new Map<RecipientStatus, RecipientOutcome[]>();
  for (const outcome of outcomes) {
    groups.set(outcome.status, [...(groups.get(outcome.status) ?? []), outcome]);
  }
  const uniform = plan.settled.size === 0 && groups.size === 1;
  const events: OutcomeEvent[] = [...groups].map(([type, members]) => ({
    type,
    recipients: uniform ? null : members.map((member) => member.address),
    smtpResponse: uniqueReplies(members),
    detail: type === 'suppressed' ? SUPPRESSED_DETAIL : (details[type] ?? null),
  }));
  const explaining = outcomes.find((o) => o.status !== 'delivered' && o.smtpResponse !== null);
  const delivered = outcomes.find((o) => o.status === 'delivered');
  return {
    status: status ?? 'suppressed',
    recipients: uniform ? null : outcomes,
    events,
    smtpResponse: (status === 'delivered' ? delivered : explaining)?.smtpResponse ?? null,
  };
}

function uniqueReplies(outcomes: readonly RecipientOutcome[]): string | null {
  const replies = [...new Set(outcomes.map((o) => o.smtpResponse).filter((r) => r !== null))];
  return replies.length === 0 ? null : replies.join(' | ').slice(0, 1000);
}
