import { z } from 'zod';
import type { EmailRow, RecipientOutcomeRow } from '../../emails/email-repository.js';
import { envelopeRecipients } from '../../smtp/envelope.js';
import { timestamp } from './common.js';

/** How emails and their events are shown: Resend's email object plus SelfMX's queue fields. */

export const EMAIL_STATUSES = [
  'scheduled',
  'queued',
  'sending',
  'delivered',
  'bounced',
  'failed',
  'suppressed',
  'canceled',
] as const;

const RECIPIENT_STATUSES = [
  'queued',
  'deferred',
  'delivered',
  'bounced',
  'suppressed',
  'failed',
] as const;

export const emailSummarySchema = z.object({
  object: z.literal('email'),
  id: z.uuid(),
  status: z.enum(EMAIL_STATUSES),
  last_event: z.enum(EMAIL_STATUSES).meta({ description: "Resend's name for status" }),
  from: z.string(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  reply_to: z.array(z.string()),
  subject: z.string(),
  tags: z.array(z.object({ name: z.string(), value: z.string() })),
  template_id: z.uuid().nullable(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  sent_at: timestamp.nullable(),
  next_attempt_at: timestamp,
  scheduled_at: timestamp
    .nullable()
    .meta({ description: 'the time the email is scheduled for; null when it was sent at once' }),
  purged_at: timestamp.nullable().meta({
    description:
      'when RETENTION_DAYS purged the content: html, text, attachments and template data are gone',
  }),
});

export const emailSchema = emailSummarySchema.extend({
  html: z.string().nullable(),
  text: z.string().nullable(),
  recipients: z
    .array(
      z.object({
        email: z.string(),
        status: z.enum(RECIPIENT_STATUSES),
        smtp_response: z.string().nullable(),
      }),
    )
    .meta({ description: 'each envelope recipient (to, cc, bcc) and its outcome so far' }),
});

export const emailEventSchema = z.object({
  id: z.string(),
  type: z.enum([
    'scheduled',
    'queued',
    'sending',
    'delivered',
    'deferred',
    'bounced',
    'failed',
    'suppressed',
    'delivery_delayed',
    'requeued',
    'canceled',
  ]),
  recipients: z
    .array(z.string())
    .nullable()
    .meta({ description: 'the recipients the event is about; null: all of them' }),
  attempt: z.number().int(),
  smtp_response: z.string().nullable(),
  detail: z.string().nullable(),
  created_at: timestamp,
});

export function emailSummaryView(row: Omit<EmailRow, 'html' | 'text'>) {
  return {
    object: 'email' as const,
    id: row.id,
    status: row.status,
    last_event: row.status,
    from: row.from_address,
    to: row.to_addresses,
    cc: row.cc_addresses,
    bcc: row.bcc_addresses,
    reply_to: row.reply_to,
    subject: row.subject,
    tags: row.tags,
    template_id: row.template_id,
    attempts: row.attempts,
    last_error: row.last_error,
    created_at: row.created_at,
    updated_at: row.updated_at,
    sent_at: row.sent_at,
    next_attempt_at: row.next_attempt_at,
    scheduled_at: row.scheduled_at,
    purged_at: row.purged_at,
  };
}

/**
 * An email with each recipient's outcome: its recorded row, or the email's status when the
 * recipients fared alike (no rows).
 */
export function emailView(row: EmailRow, outcomes: readonly RecipientOutcomeRow[]) {
  const recorded = new Map(outcomes.map((o) => [o.address.toLowerCase(), o]));
  const alike = row.status === 'sending' ? 'queued' : row.status;
  const recipients = envelopeRecipients([
    ...row.to_addresses,
    ...row.cc_addresses,
    ...row.bcc_addresses,
  ]).map((email) => {
    const outcome = recorded.get(email.toLowerCase());
    return {
      email,
      status: (outcome?.status ?? alike) as (typeof RECIPIENT_STATUSES)[number],
      smtp_response: outcome?.smtp_response ?? null,
    };
  });
  return { ...emailSummaryView(row), html: row.html, text: row.text, recipients };
}
