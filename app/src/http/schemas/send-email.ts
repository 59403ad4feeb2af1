import { z } from 'zod';
import { CONTROL_CHARACTERS, formatMailbox, parseMailbox } from '../../emails/email-address.js';
import { EMAIL_LIMITS as LIMITS } from '../../emails/limits.js';
import { parseScheduledAt, SCHEDULED_AT_FORMATS } from '../../emails/scheduled-at.js';
import type { SendEmailRequest } from '../../emails/send-email-request.js';
import { RESERVED_HEADERS } from '../../smtp/reserved-headers.js';

/**
 * The body of POST /v1/emails and /v1/send: Resend's send-email request (snake_case, as the
 * Resend SDKs send it). Parsing normalises recipients to lists and mailboxes to `"Name" <addr>`,
 * and yields the emails layer's SendEmailRequest (checked by the `satisfies` below).
 */

const mailbox = z
  .string()
  .max(1000)
  .transform((value, ctx) => {
    const parsed = parseMailbox(value);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
      return z.NEVER;
    }
    return formatMailbox(parsed);
  })
  .meta({ description: '`a@example.com` or `Name <a@example.com>`' });

const mailboxes = (max: number) =>
  z.union([mailbox.transform((one) => [one]), z.array(mailbox).min(1).max(max)]);

/** A header line's value: no CR/LF or other control characters (header injection). */
const singleLine = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !CONTROL_CHARACTERS.test(value), {
      message: 'must not contain control characters such as CR or LF',
    });

const headers = z
  .record(
    z
      .string()
      .regex(/^[!-9;-~]{1,76}$/, 'is not a valid header name (printable ASCII, no colon or space)')
      .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), {
        message: 'is set by SelfMX from the request fields and cannot be given as a header',
      }),
    singleLine(LIMITS.headerValueChars),
  )
  .refine((value) => Object.keys(value).length <= LIMITS.headers, {
    message: `must have at most ${LIMITS.headers} headers`,
  });

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const attachment = z.strictObject({
  filename: singleLine(LIMITS.filenameChars)
    .min(1)
    .refine((name) => !/[/\\]/.test(name), { message: 'must not contain / or \\' }),
  content: z
    .string()
    .transform((value) => value.replace(/\s+/g, ''))
    .refine((value) => value.length % 4 === 0 && BASE64.test(value), {
      message: 'must be base64-encoded',
    })
    .meta({ description: 'the file content, base64-encoded' }),
  content_type: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a MIME type such as application/pdf')
    .optional(),
  content_id: z
    .string()
    .regex(
      /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.@-]{1,255}$/,
      'must be 1-255 characters of a Content-ID, without <, > or spaces',
    )
    .optional()
    .meta({
      description: 'makes the attachment inline; the html references it as `cid:<content_id>`',
    }),
});

const tag = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 ASCII letters, digits, _ or -'),
  value: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 ASCII letters, digits, _ or -'),
});

const templateData = z
  .record(z.string(), z.unknown())
  .refine((value) => JSON.stringify(value).length <= LIMITS.templateDataBytes, {
    message: `must be at most ${LIMITS.templateDataBytes} bytes of JSON`,
  });

export const sendEmailSchema = z
  .strictObject({
    from: mailbox,
    to: mailboxes(LIMITS.recipients),
    cc: mailboxes(LIMITS.recipients).optional(),
    bcc: mailboxes(LIMITS.recipients).optional(),
    reply_to: mailboxes(LIMITS.replyTo).optional(),
    subject: singleLine(LIMITS.subjectChars).optional(),
    html: z.string().max(LIMITS.bodyChars).optional(),
    text: z.string().max(LIMITS.bodyChars).optional(),
    headers: headers.optional(),
    attachments: z.array(attachment).max(LIMITS.attachments).optional(),
    tags: z.array(tag).max(LIMITS.tags).optional(),
    template_id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'a template id or name; its subject, html and text are rendered' }),
    template_data: templateData.optional(),
    /** Resend's newer template form, the same as template_id + template_data. */
    template: z
      .strictObject({ id: z.string().min(1).max(200), variables: templateData.optional() })
      .optional(),
    scheduled_at: z
      .string()
      .max(100)
      .refine((value) => parseScheduledAt(value, new Date()) !== undefined, {
        message: `must be ${SCHEDULED_AT_FORMATS}`,
      })
      .optional()
      .meta({
        description:
          'send later: an ISO 8601 date-time with an offset, "in 1 min", "in 2 hours" or "tomorrow at 9am" (UTC); in the future and at most SCHEDULED_SEND_MAX_DAYS ahead',
      }),
  })
  .superRefine((email, ctx) => {
    const templateId = email.template_id ?? email.template?.id;
    if (email.template_id && email.template) {
      ctx.addIssue({
        code: 'custom',
        path: ['template'],
        message: 'give template_id or template, not both',
      });
    }
    if (!templateId && email.subject === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'is required (or give template_id)',
      });
    }
    if (!templateId && email.html === undefined && email.text === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['html'],
        message: 'give html or text (or template_id)',
      });
    }
    const recipients = email.to.length + (email.cc?.length ?? 0) + (email.bcc?.length ?? 0);
    if (recipients > LIMITS.recipients) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `to, cc and bcc together must have at most ${LIMITS.recipients} recipients (got ${recipients})`,
      });
    }
    const attachmentBytes = (email.attachments ?? []).reduce(
      (sum, a) => sum + decodedSize(a.content),
      0,
    );
    if (attachmentBytes > LIMITS.attachmentBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['attachments'],
        message: `must total at most ${LIMITS.attachmentBytes} bytes decoded (got ${attachmentBytes})`,
      });
    }
  }) satisfies z.ZodType<SendEmailRequest>;

export const sendEmailResponseSchema = z.object({
  id: z.uuid(),
  status: z.enum(['queued', 'scheduled']),
  created_at: z.string(),
});

function decodedSize(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
