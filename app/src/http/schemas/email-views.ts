import { z } from 'zod';
import type { EmailRow } from '../../emails/email-repository.js';
import { timestamp } from './common.js';

/** How emails and their events are shown: Resend's email object plus SelfMX's queue fields. */

export const EMAIL_STATUSES = ['queued', 'sending', 'delivered', 'bounced', 'failed'] as const;

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
  scheduled_at: z.null(),
  purged_at: timestamp.nullable().meta({
    description:
      'when RETENTION_DAYS purged the content: html, text, attachments and template data are gone',
  }),
});

export const emailSchema = emailSummarySchema.extend({
  html: z.string().nullable(),
  text: z.string().nullable(),
});

export const emailEventSchema = z.object({
  id: z.string(),
  type: z.enum(['queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed']),
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
    scheduled_at: null,
    purged_at: row.purged_at,
  };
}

export function emailView(row: EmailRow) {
  return { ...emailSummaryView(row), html: row.html, text: row.text };
}
