import type pg from 'pg';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import { countAcceptedEmail } from '../queue/email-metrics.js';
import { notifyEmailQueued } from '../queue/queue-notifier.js';
import {
  type RenderCaps,
  renderEmailTemplate,
  TemplateRenderError,
} from '../templates/render-email-template.js';
import { findTemplate } from '../templates/template-repository.js';
import { CONTROL_CHARACTERS } from './email-address.js';
import {
  type EmailToQueue,
  type InsertOutcome,
  insertQueuedEmails,
  type NewEmail,
} from './email-repository.js';
import { EMAIL_LIMITS } from './limits.js';
import type { SendEmailRequest } from './send-email-request.js';

export interface AcceptContext {
  tenantId: string;
  apiKeyId: string;
  requestId: string;
  ip: string | undefined;
  idempotencyKey: string | null;
  /** SHA-256 of the request body, compared on idempotent retries. */
  requestHash: Buffer | null;
}

export type AcceptResult =
  | { kind: 'accepted'; id: string; createdAt: Date; replayed: boolean }
  | { kind: 'idempotency_conflict' }
  | { kind: 'quota_exceeded'; quota: 'emails' | 'bytes'; limit: number; resetsAt: Date }
  | { kind: 'invalid'; field: string; message: string };

/**
 * Emails share one INSERT statement (see statement-batcher.ts), sent as one JSON string: the
 * size cap keeps that string below V8's large-object size, so it dies young, and keeps large
 * emails from adding up to one huge string. One statement at a time: fewer, larger statements
 * accept more emails per second than overlapping ones (docs/performance.md).
 */
/** A rendered part is capped like the same field sent directly. */
const RENDER_CAPS: RenderCaps = {
  subject: EMAIL_LIMITS.subjectChars,
  html: EMAIL_LIMITS.bodyChars,
  text: EMAIL_LIMITS.bodyChars,
};

const ACCEPT_BATCH: BatchLimits<EmailToQueue> = {
  maxBatch: 64,
  maxInFlight: 1,
  maxSize: { max: 64 * 1024, measure: ({ email }) => contentSize(email) },
};

/**
 * Accepts emails for delivery: renders the template, then commits the email, its `queued` event
 * and its audit entry. Only then may the caller answer 2xx. Emails accepted at the same moment
 * are committed together in one statement (group commit), each answered once it is committed.
 */
export class EmailAcceptor {
  private readonly batcher: StatementBatcher<EmailToQueue, InsertOutcome>;

  constructor(private readonly pool: pg.Pool) {
    this.batcher = new StatementBatcher(
      (batch) => insertQueuedEmails(pool, batch),
      ACCEPT_BATCH,
      batchWaitOf(pool),
    );
  }

  async accept(request: SendEmailRequest, context: AcceptContext): Promise<AcceptResult> {
    const content = await resolveContent(this.pool, context.tenantId, request);
    if ('field' in content) return { kind: 'invalid', ...content };
    const email: NewEmail = {
      tenantId: context.tenantId,
      apiKeyId: context.apiKeyId,
      from: request.from,
      to: request.to,
      cc: request.cc ?? [],
      bcc: request.bcc ?? [],
      replyTo: request.reply_to ?? [],
      ...content,
      headers: request.headers ?? {},
      attachments: request.attachments ?? [],
      tags: request.tags ?? [],
      idempotencyKey: context.idempotencyKey,
      requestHash: context.requestHash,
    };
    const outcome = await this.batcher.submit({
      email,
      by: { requestId: context.requestId, ip: context.ip },
    });
    if (outcome.kind === 'existing') {
      // Nothing was written: a retry gets the first answer, another body a conflict.
      return outcome.sameRequest
        ? { kind: 'accepted', id: outcome.id, createdAt: outcome.createdAt, replayed: true }
        : { kind: 'idempotency_conflict' };
    }
    if (outcome.kind === 'over_quota') {
      const { quota, limit, resetsAt } = outcome;
      return { kind: 'quota_exceeded', quota, limit, resetsAt };
    }
    notifyEmailQueued(this.pool);
    // selfmx_emails_total counts committed emails only (not idempotent replays).
    countAcceptedEmail();
    return { kind: 'accepted', id: outcome.id, createdAt: outcome.createdAt, replayed: false };
  }
}

type Content = Pick<NewEmail, 'subject' | 'html' | 'text' | 'templateId' | 'templateData'>;

/** The subject and bodies: given directly, or rendered from the template (given fields win). */
async function resolveContent(
  pool: pg.Pool,
  tenantId: string,
  request: SendEmailRequest,
): Promise<Content | { field: string; message: string }> {
  const templateRef = request.template_id ?? request.template?.id;
  const field = request.template_id !== undefined ? 'template_id' : 'template.id';
  if (templateRef === undefined) {
    return {
      subject: request.subject ?? '',
      html: request.html ?? null,
      text: request.text ?? null,
      templateId: null,
      templateData: null,
    };
  }
  const template = await findTemplate(pool, tenantId, templateRef);
  if (!template) {
    return { field, message: `no template "${templateRef}" exists for this API key's tenant` };
  }
  const data = request.template_data ?? request.template?.variables ?? {};
  const dataField = request.template_id !== undefined ? 'template_data' : 'template.variables';
  try {
    const rendered = await renderEmailTemplate(template, data, RENDER_CAPS);
    const subject = request.subject ?? rendered.subject;
    if (CONTROL_CHARACTERS.test(subject) || subject.length > EMAIL_LIMITS.subjectChars) {
      return {
        field: dataField,
        message: `the rendered subject must be one line of at most ${EMAIL_LIMITS.subjectChars} characters`,
      };
    }
    return {
      subject,
      html: request.html ?? rendered.html,
      text: request.text ?? rendered.text,
      templateId: template.id,
      templateData: data,
    };
  } catch (error) {
    if (error instanceof TemplateRenderError) {
      return {
        field: dataField,
        message: `template "${template.name}" ${error.part} ${error.message}`,
      };
    }
    throw error;
  }
}

/** Characters of an email's content: what makes one row of the accept statement large. */
function contentSize(email: NewEmail): number {
  let size = email.subject.length + (email.html?.length ?? 0) + (email.text?.length ?? 0);
  for (const attachment of email.attachments) size += attachment.content.length;
  return size;
}
