import { z } from 'zod';
import {
  acceptOptionsOf,
  type BatchError,
  type BatchValidation,
  EmailAcceptor,
} from '../../emails/accept-email.js';
import type { SendEmailRequest } from '../../emails/send-email-request.js';
import { ApiError } from '../api-error.js';
import { callerOf } from '../caller.js';
import { clientAddress } from '../client-address.js';
import { readIdempotency } from '../idempotency-key.js';
import { type RouteSpec, route } from '../route-spec.js';
import { sendEmailSchema } from '../schemas/send-email.js';
import type { ServerDeps } from '../server-deps.js';
import { parseSafeInput } from '../validation.js';
import { idempotencyConflict, quotaExceeded } from './emails.js';

/** Resend's limit: emails in one batch. */
export const BATCH_MAX_EMAILS = 100;

const { $schema: _unused, ...sendEmailJsonSchema } = z.toJSONSchema(sendEmailSchema, {
  io: 'input',
  unrepresentable: 'any',
}) as Record<string, unknown>;

/**
 * Each email is validated on its own (so that `permissive` can accept the valid ones); the
 * document shows each as the body of POST /v1/emails.
 */
const batchBodySchema = z
  .array(
    z.unknown().meta({ ...sendEmailJsonSchema, description: 'as the body of POST /v1/emails' }),
  )
  .min(1)
  .max(BATCH_MAX_EMAILS);

const batchResponseSchema = z.object({
  data: z.array(z.object({ id: z.uuid() })),
  errors: z
    .array(z.object({ index: z.number().int(), message: z.string() }))
    .optional()
    .meta({ description: 'with `x-batch-validation: permissive` only: the emails not accepted' }),
});

/** POST /v1/emails/batch (Resend's `batch.send`). */
export function emailBatchRoutes({ pool, config }: ServerDeps): RouteSpec[] {
  const acceptor = new EmailAcceptor(pool, acceptOptionsOf(config.http));
  return [
    route({
      method: 'POST',
      url: '/v1/emails/batch',
      summary: `Queue up to ${BATCH_MAX_EMAILS} emails in one transaction (Resend-compatible); x-batch-validation: strict (all or none, the default) or permissive`,
      tag: 'emails',
      permission: 'send',
      body: batchBodySchema,
      response: batchResponseSchema,
      handler: async ({ body, request }) => {
        const validation = readBatchValidation(request.headers['x-batch-validation']);
        const key = callerOf(request);
        const idempotency = readIdempotency(request);
        const result = await acceptor.acceptBatch(
          body.map(parseBatchEmail),
          {
            tenantId: key.tenantId,
            apiKeyId: key.id,
            requestId: request.id,
            ip: clientAddress(request),
            idempotencyKey: idempotency.key,
            requestHash: idempotency.requestHash,
          },
          validation,
        );
        if (result.kind === 'invalid') {
          const messages = result.errors.map(({ index, message }) => `[${index}] ${message}`);
          throw new ApiError(
            422,
            'validation_error',
            `${messages.slice(0, 10).join('; ')}; nothing was queued (x-batch-validation: permissive accepts the valid emails)`,
          );
        }
        if (result.kind === 'idempotency_conflict') throw idempotencyConflict();
        if (result.kind === 'quota_exceeded') throw quotaExceeded(result);
        const data = result.ids.map((id) => ({ id }));
        return validation === 'permissive' ? { data, errors: result.errors } : { data };
      },
    }),
  ];
  function parseBatchEmail(item: unknown, index: number): SendEmailRequest | BatchError {
    try {
      // The route already refused unsafe input anywhere in the batch's body.
      return parseSafeInput(sendEmailSchema, item, 'body');
    } catch (error) {
      if (error instanceof ApiError) return { index, message: error.message };
      throw error;
    }
  }
}

function readBatchValidation(header: string | string[] | undefined): BatchValidation {
  if (header === undefined) return 'strict';
  const value = Array.isArray(header) ? undefined : header.trim().toLowerCase();
  if (value === 'strict' || value === 'permissive') return value;
  throw new ApiError(
    422,
    'validation_error',
    'x-batch-validation: must be strict (the default: all emails or none) or permissive (the valid ones)',
  );
}
