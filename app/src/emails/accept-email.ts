import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { HttpConfig } from '../config/app-config.js';
import { type BatchLimits, batchWaitOf, StatementBatcher } from '../db/statement-batcher.js';
import { inTransaction } from '../db/transaction.js';
import { countAcceptedEmail } from '../queue/email-metrics.js';
import { notifyEmailQueued } from '../queue/queue-notifier.js';
import type { KeyRateLimit } from '../rate-limit/rate-limiter.js';
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
  type RequestCount,
} from './email-repository.js';
import { EMAIL_LIMITS } from './limits.js';
import { resolveScheduledAt } from './scheduled-at.js';
import type { SendEmailRequest } from './send-email-request.js';

export interface AcceptContext {
  tenantId: string;
  apiKeyId: string;
  requestId: string;
  ip: string | undefined;
  idempotencyKey: string | null;
  /** SHA-256 of the request body, compared on idempotent retries. */
  requestHash: Buffer | null;
  /**
   * The presented key's hash, when the request is not counted yet: the accept statement then
   * authenticates the key and counts the request (see insertQueuedEmails).
   */
  presentedKeyHash?: Buffer | undefined;
}

export interface QuotaRefusal {
  kind: 'quota_exceeded';
  quota: 'emails' | 'bytes';
  limit: number;
  resetsAt: Date;
}

/** Set on every answer of the accept statement when it counted the request (presentedKeyHash). */
interface Counted {
  counted?: RequestCount | undefined;
}

export type AcceptResult =
  | ({
      kind: 'accepted';
      id: string;
      createdAt: Date;
      replayed: boolean;
      scheduled: boolean;
    } & Counted)
  | ({ kind: 'idempotency_conflict' } & Counted)
  | (QuotaRefusal & Counted)
  | ({ kind: 'rate_limited' } & Counted)
  | { kind: 'key_refused'; reason: 'revoked' | 'tenant_disabled' }
  | { kind: 'invalid'; field: string; message: string };

export interface AcceptOptions {
  /** How far ahead scheduled_at may lie (SCHEDULED_SEND_MAX_DAYS). */
  readonly scheduleMaxDays: number;
  /** The per-key rate limit the accept statement applies to a presentedKeyHash. */
  readonly keyRateLimit: KeyRateLimit;
}

/** The accept options of the HTTP configuration. */
export function acceptOptionsOf(
  http: Pick<HttpConfig, 'scheduleMaxDays' | 'rateLimitRequests' | 'rateLimitWindowSeconds'>,
): AcceptOptions {
  return {
    scheduleMaxDays: http.scheduleMaxDays,
    keyRateLimit: { requests: http.rateLimitRequests, windowSeconds: http.rateLimitWindowSeconds },
  };
}

/**
 * POST /v1/emails/batch: `strict` accepts all the emails or none; `permissive` accepts the
 * valid ones that fit the quotas and says, by index, why the others were not.
 */
export type BatchValidation = 'strict' | 'permissive';

/** One email of a batch that was not accepted, with the reason (`field: why`). */
export interface BatchError {
  index: number;
  message: string;
}

export type BatchAcceptResult =
  | { kind: 'accepted'; ids: string[]; errors: BatchError[] }
  | { kind: 'invalid'; errors: BatchError[] }
  | { kind: 'idempotency_conflict' }
  | QuotaRefusal;

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

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: AcceptOptions,
  ) {
    this.batcher = new StatementBatcher(
      (batch) => insertQueuedEmails(pool, batch, options.keyRateLimit),
      ACCEPT_BATCH,
      batchWaitOf(pool),
    );
  }

  async accept(request: SendEmailRequest, context: AcceptContext): Promise<AcceptResult> {
    const email = await this.prepare(request, context, context.idempotencyKey);
    if ('field' in email) return { kind: 'invalid', ...email };
    const outcome = await this.batcher.submit({
      email,
      by: { requestId: context.requestId, ip: context.ip },
      ...(context.presentedKeyHash && { keyHash: context.presentedKeyHash }),
    });
    const { counted } = outcome;
    const scheduled = email.scheduledAt !== null;
    switch (outcome.kind) {
      case 'key_refused':
        return { kind: 'key_refused', reason: outcome.reason };
      case 'rate_limited':
        return { kind: 'rate_limited', counted };
      case 'over_quota':
        return { ...quotaRefusal(outcome), counted };
      case 'existing': {
        // Nothing was written: a retry gets the first answer, another body a conflict.
        const { id, createdAt } = outcome;
        return outcome.sameRequest
          ? { kind: 'accepted', id, createdAt, replayed: true, scheduled, counted }
          : { kind: 'idempotency_conflict', counted };
      }
      case 'inserted': {
        this.announce(1);
        const { id, createdAt } = outcome;
        return { kind: 'accepted', id, createdAt, replayed: false, scheduled, counted };
      }
    }
  }

  /**
   * Accepts a batch in ONE transaction, through the accept statement of single sends, so its
   * emails count against the daily quotas together. One Idempotency-Key covers the batch: each
   * email holds a key derived from it and its index, so a retry finds every email again.
   */
  async acceptBatch(
    requests: readonly (SendEmailRequest | BatchError)[],
    context: AcceptContext,
    validation: BatchValidation,
  ): Promise<BatchAcceptResult> {
    const prepared = await Promise.all(
      requests.map(async (request, index) => {
        if ('message' in request) return request;
        const key = context.idempotencyKey && batchIdempotencyKey(context.idempotencyKey, index);
        const email = await this.prepare(request, context, key);
        return 'field' in email ? { index, message: `${email.field}: ${email.message}` } : email;
      }),
    );
    const errors = prepared.filter((item): item is BatchError => 'message' in item);
    if (validation === 'strict' && errors.length > 0) return { kind: 'invalid', errors };
    const emails = prepared.filter((item): item is NewEmail => !('message' in item));
    const indexes = prepared.flatMap((item, index) => ('message' in item ? [] : [index]));
    const by = { requestId: context.requestId, ip: context.ip };
    let outcomes: InsertOutcome[];
    try {
      outcomes = await inTransaction(this.pool, async (client) => {
        const written =
          emails.length === 0
            ? []
            : await insertQueuedEmails(
                client,
                emails.map((email) => ({ email, by })),
                this.options.keyRateLimit,
              );
        const refused = written.find((outcome) => outcome.kind === 'over_quota');
        if (validation === 'strict' && refused) throw new BatchRefused(quotaRefusal(refused));
        return written;
      });
    } catch (error) {
      if (error instanceof BatchRefused) return error.refusal;
      throw error;
    }
    if (outcomes.some((outcome) => outcome.kind === 'existing' && !outcome.sameRequest)) {
      return { kind: 'idempotency_conflict' };
    }
    const ids: string[] = [];
    let inserted = 0;
    for (const [position, outcome] of outcomes.entries()) {
      if (outcome.kind === 'over_quota') {
        const index = indexes[position] ?? position;
        errors.push({ index, message: quotaMessage(outcome) });
        continue;
      }
      if (outcome.kind === 'key_refused' || outcome.kind === 'rate_limited') {
        throw new Error('a batch was authenticated by its request, not by the accept statement');
      }
      if (outcome.kind === 'inserted') inserted += 1;
      ids.push(outcome.id);
    }
    if (inserted > 0) this.announce(inserted);
    errors.sort((a, b) => a.index - b.index);
    return { kind: 'accepted', ids, errors };
  }

  /** Wakes the workers and counts what was committed (not idempotent replays). */
  private announce(committed: number): void {
    notifyEmailQueued(this.pool);
    countAcceptedEmail(committed);
  }

  /** The row to queue: the content resolved and scheduled_at checked. */
  private async prepare(
    request: SendEmailRequest,
    context: AcceptContext,
    idempotencyKey: string | null,
  ): Promise<NewEmail | { field: string; message: string }> {
    let scheduledAt: Date | null = null;
    if (request.scheduled_at !== undefined) {
      const resolved = resolveScheduledAt(
        request.scheduled_at,
        new Date(),
        this.options.scheduleMaxDays,
      );
      if ('error' in resolved) return { field: 'scheduled_at', message: resolved.error };
      scheduledAt = resolved.at;
    }
    const content = await resolveContent(this.pool, context.tenantId, request);
    if ('field' in content) return content;
    return {
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
      idempotencyKey,
      requestHash: context.requestHash,
      scheduledAt,
    };
  }
}

/** Thrown inside a strict batch's transaction to roll it back. */
class BatchRefused extends Error {
  constructor(readonly refusal: QuotaRefusal) {
    super('a strict batch went over a daily quota');
  }
}

function quotaRefusal(outcome: Extract<InsertOutcome, { kind: 'over_quota' }>): QuotaRefusal {
  const { quota, limit, resetsAt } = outcome;
  return { kind: 'quota_exceeded', quota, limit, resetsAt };
}

/** Why a quota refused an email, with the reset time. */
export function quotaMessage(refusal: Pick<QuotaRefusal, 'quota' | 'limit' | 'resetsAt'>): string {
  const what = refusal.quota === 'emails' ? 'emails' : 'bytes of email';
  return `daily quota exceeded: this API key's tenant may send ${refusal.limit} ${what} per UTC day; nothing was queued; the quota resets at ${refusal.resetsAt.toISOString()}`;
}

/**
 * The key email `index` of a batch holds. The space cannot occur in a client's key, so no
 * single send's key can ever equal it.
 */
function batchIdempotencyKey(key: string, index: number): string {
  return `batch ${createHash('sha256').update(key).digest('hex')} ${index}`;
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
