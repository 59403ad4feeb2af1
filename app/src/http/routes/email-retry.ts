import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import { inTransaction } from '../../db/transaction.js';
import { notifyEmailQueued } from '../../queue/queue-notifier.js';
import { requeueFailedEmail } from '../../queue/requeue-email.js';
import { conflict, notFound } from '../api-error.js';
import { auditContext, callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import { idParams } from '../schemas/common.js';
import type { ServerDeps } from '../server-deps.js';

/** POST /v1/emails/{id}/retry: a `failed` email is queued again (docs/delivery.md#retry-policy). */
export function emailRetryRoute({ pool }: ServerDeps): RouteSpec {
  return route({
    method: 'POST',
    url: '/v1/emails/:id/retry',
    summary:
      'Queue a failed email again: a new round of attempts for the recipients that failed (409 unless failed)',
    tag: 'emails',
    permission: 'send',
    params: idParams('email'),
    response: z.object({
      object: z.literal('email'),
      id: z.uuid(),
      status: z.literal('queued'),
    }),
    handler: async ({ params, request }) => {
      const { tenantId } = callerOf(request);
      const result = await inTransaction(pool, async (client) => {
        const outcome = await requeueFailedEmail(client, tenantId, params.id);
        if (outcome.kind === 'requeued') {
          await recordAudit(client, {
            ...auditContext(request),
            action: 'email.requeued',
            targetType: 'email',
            targetId: params.id,
            detail: { previous_attempts: outcome.previousAttempts },
          });
        }
        return outcome;
      });
      if (result.kind === 'not_found') throw notFound(`email ${params.id}`);
      if (result.kind === 'not_failed') {
        throw conflict(
          'invalid_email_status',
          `id: email ${params.id} is ${result.status}; only a failed email can be retried`,
        );
      }
      if (result.kind === 'purged') {
        throw conflict(
          'invalid_email_status',
          `id: email ${params.id} cannot be retried: its content was purged (RETENTION_DAYS); send it again with POST /v1/emails`,
        );
      }
      notifyEmailQueued(pool);
      return { object: 'email', id: params.id, status: 'queued' };
    },
  });
}
