import { z } from 'zod';
import { resolveScheduledAt } from '../../emails/scheduled-at.js';
import {
  cancelEmail,
  rescheduleEmail,
  type ScheduleChange,
} from '../../emails/scheduled-email-repository.js';
import { conflict, notFound, validationError } from '../api-error.js';
import { callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import { idParams } from '../schemas/common.js';
import { sendEmailSchema } from '../schemas/send-email.js';
import type { ServerDeps } from '../server-deps.js';

const changedSchema = z.object({ object: z.literal('email'), id: z.uuid() });

/** PATCH /v1/emails/{id} (reschedule) and POST /v1/emails/{id}/cancel, as Resend's SDK calls them. */
export function emailScheduleRoutes({ pool, config }: ServerDeps): RouteSpec[] {
  return [
    route({
      method: 'PATCH',
      url: '/v1/emails/:id',
      summary: 'Reschedule an email that is scheduled or queued (409 once it is being sent)',
      tag: 'emails',
      permission: 'send',
      params: idParams('email'),
      body: z.strictObject({ scheduled_at: sendEmailSchema.shape.scheduled_at.unwrap() }),
      response: changedSchema,
      handler: async ({ params, body, request }) => {
        const at = resolveScheduledAt(body.scheduled_at, new Date(), config.http.scheduleMaxDays);
        if ('error' in at) throw validationError('scheduled_at', at.error);
        const { tenantId } = callerOf(request);
        return answer(params.id, await rescheduleEmail(pool, tenantId, params.id, at.at));
      },
    }),
    route({
      method: 'POST',
      url: '/v1/emails/:id/cancel',
      summary:
        'Cancel an email that is scheduled or queued: it is never sent (409 once it is being sent)',
      tag: 'emails',
      permission: 'send',
      params: idParams('email'),
      response: changedSchema,
      handler: async ({ params, request }) => {
        const { tenantId } = callerOf(request);
        return answer(params.id, await cancelEmail(pool, tenantId, params.id));
      },
    }),
  ];
}

function answer(id: string, change: ScheduleChange) {
  if (change.kind === 'not_found') throw notFound(`email ${id}`);
  if (change.kind === 'too_late') {
    throw conflict(
      'invalid_email_state',
      `email ${id} is ${change.status}: only a scheduled or queued email can be rescheduled or canceled`,
    );
  }
  return { object: 'email' as const, id: change.id };
}
