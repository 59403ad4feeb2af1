import { z } from 'zod';
import {
  acceptOptionsOf,
  EmailAcceptor,
  type QuotaRefusal,
  quotaMessage,
} from '../../emails/accept-email.js';
import {
  emailExists,
  findEmail,
  listEmails,
  listRecipientOutcomes,
} from '../../emails/email-repository.js';
import { ApiError, notFound, validationError } from '../api-error.js';
import { callerOf } from '../caller.js';
import { clientAddress } from '../client-address.js';
import { readIdempotency } from '../idempotency-key.js';
import { type RouteSpec, route } from '../route-spec.js';
import { idParams, listBody, listSchema, pageWindow, paginationQuery } from '../schemas/common.js';
import {
  EMAIL_STATUSES,
  emailSchema,
  emailSummarySchema,
  emailSummaryView,
  emailView,
} from '../schemas/email-views.js';
import { sendEmailResponseSchema, sendEmailSchema } from '../schemas/send-email.js';
import type { ServerDeps } from '../server-deps.js';

/** 429 past a daily quota, with the reset time in the message and in Retry-After. */
export function quotaExceeded(result: QuotaRefusal): ApiError {
  const retryAfter = Math.max(1, Math.ceil((result.resetsAt.getTime() - Date.now()) / 1000));
  return new ApiError(429, 'quota_exceeded', quotaMessage(result), {
    'retry-after': String(retryAfter),
    'x-quota-reset': result.resetsAt.toISOString(),
  });
}

/** 409 for an Idempotency-Key reused with another body. */
export function idempotencyConflict(): ApiError {
  return new ApiError(
    409,
    'invalid_idempotent_request',
    'Idempotency-Key: was already used with a different request body; use a new key',
  );
}

/** POST /v1/emails (Resend's path) and /v1/send (the seed's), GET /v1/emails[/{id}]. */
export function emailRoutes({ pool, config }: ServerDeps): RouteSpec[] {
  const acceptor = new EmailAcceptor(pool, acceptOptionsOf(config.http));
  const send = (url: string) =>
    route({
      method: 'POST',
      url,
      summary: 'Queue an email (Resend-compatible); answered once it is committed',
      tag: 'emails',
      permission: 'send',
      countsInAccept: true,
      body: sendEmailSchema,
      response: sendEmailResponseSchema,
      handler: async ({ body, request, reply }) => {
        const key = callerOf(request);
        const idempotency = readIdempotency(request);
        const deferred = request.deferredAuthentication;
        const result = await acceptor.accept(body, {
          tenantId: key.tenantId,
          apiKeyId: key.id,
          requestId: request.id,
          ip: clientAddress(request),
          idempotencyKey: idempotency.key,
          requestHash: idempotency.requestHash,
          presentedKeyHash: deferred?.keyHash,
        });
        deferred?.settleAccept(result, reply);
        if (result.kind === 'key_refused' || result.kind === 'rate_limited') {
          throw new Error(`the accept statement answered ${result.kind} for a counted request`);
        }
        if (result.kind === 'invalid') throw validationError(result.field, result.message);
        if (result.kind === 'idempotency_conflict') throw idempotencyConflict();
        if (result.kind === 'quota_exceeded') throw quotaExceeded(result);
        return {
          id: result.id,
          status: result.scheduled ? ('scheduled' as const) : ('queued' as const),
          created_at: result.createdAt.toISOString(),
        };
      },
    });

  return [
    send('/v1/emails'),
    send('/v1/send'),
    route({
      method: 'GET',
      url: '/v1/emails',
      summary: 'List emails, newest first',
      tag: 'emails',
      permission: 'logs:read',
      query: z.strictObject({
        ...paginationQuery,
        status: z.enum(EMAIL_STATUSES).optional(),
        from: z.string().max(1000).optional().meta({ description: 'sender address' }),
        to: z.string().max(1000).optional().meta({ description: 'one recipient address' }),
        after: z.uuid().optional().meta({ description: 'cursor: emails older than this email id' }),
        before: z
          .uuid()
          .optional()
          .meta({ description: 'cursor: emails newer than this email id' }),
      }),
      response: listSchema(emailSummarySchema),
      handler: async ({ query, request }) => {
        const { tenantId } = callerOf(request);
        if (query.after && query.before)
          throw validationError('before', 'give after or before, not both');
        const cursor = query.after ?? query.before;
        if (cursor && !(await emailExists(pool, tenantId, cursor))) {
          throw validationError(
            query.after ? 'after' : 'before',
            `no email ${cursor} to page from`,
          );
        }
        const { rows, total, hasMore } = await listEmails(pool, tenantId, {
          ...pageWindow(query),
          status: query.status,
          from: query.from,
          to: query.to,
          after: query.after,
          before: query.before,
        });
        return listBody(rows.map(emailSummaryView), query, total, hasMore);
      },
    }),
    route({
      method: 'GET',
      url: '/v1/emails/:id',
      summary: "One email: status (also as last_event), each recipient's outcome, last error",
      tag: 'emails',
      permission: 'logs:read',
      params: idParams('email'),
      response: emailSchema,
      handler: async ({ params, request }) => {
        const { tenantId } = callerOf(request);
        const email = await findEmail(pool, tenantId, params.id);
        if (!email) throw notFound(`email ${params.id}`);
        return emailView(email, await listRecipientOutcomes(pool, tenantId, params.id));
      },
    }),
  ];
}
