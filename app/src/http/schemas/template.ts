import { z } from 'zod';
import { CONTROL_CHARACTERS } from '../../emails/email-address.js';
import { EMAIL_LIMITS } from '../../emails/limits.js';
import { templateSyntaxError } from '../../templates/template-engine.js';
import type { TemplateRow } from '../../templates/template-repository.js';
import { displayName, timestamp } from './common.js';

/** Handlebars source that must compile; a syntax error is reported on the field. */
const handlebarsSource = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((source, ctx) => {
      const error = templateSyntaxError(source);
      if (error) ctx.addIssue({ code: 'custom', message: error });
    });

const name = displayName.refine(
  (value) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
  {
    message: 'must not look like a UUID (template_id accepts an id or a name)',
  },
);

const subject = handlebarsSource(EMAIL_LIMITS.subjectChars)
  .min(1)
  .refine((value) => !CONTROL_CHARACTERS.test(value), {
    message: 'must not contain control characters such as CR or LF',
  });

const fields = {
  name,
  subject,
  html: handlebarsSource(EMAIL_LIMITS.bodyChars).nullable().optional(),
  text: handlebarsSource(EMAIL_LIMITS.bodyChars).nullable().optional(),
};

const needsBody = (template: { html?: string | null; text?: string | null }) =>
  (template.html ?? null) !== null || (template.text ?? null) !== null;

export const createTemplateSchema = z
  .strictObject(fields)
  .refine(needsBody, { path: ['html'], message: 'give html or text (or both)' });

/** PUT/PATCH: the fields to change; html or text may be set to null to remove it. */
export const updateTemplateSchema = z
  .strictObject({
    name: fields.name.optional(),
    subject: fields.subject.optional(),
    html: fields.html,
    text: fields.text,
  })
  .refine((update) => Object.keys(update).length > 0, {
    message: 'give at least one field to change',
  });

export const templateSchema = z.object({
  object: z.literal('template'),
  id: z.uuid(),
  name: z.string(),
  subject: z.string(),
  html: z.string().nullable(),
  text: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

export function templateView(row: TemplateRow) {
  return { object: 'template' as const, ...row };
}
