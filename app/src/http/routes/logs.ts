import { z } from 'zod';
import { emailExists, listEmailEvents } from '../../emails/email-repository.js';
import { notFound } from '../api-error.js';
import { callerOf } from '../caller.js';
import { route } from '../route-spec.js';
import { emailEventSchema } from '../schemas/email-views.js';
import type { ServerDeps } from '../server-deps.js';

/** GET /v1/logs?email_id=: an email's delivery events (queued, sending, deferred, ...). */
export function logRoutes({ pool }: ServerDeps) {
  return [
    route({
      method: 'GET',
      url: '/v1/logs',
      summary: "An email's events, oldest first, with the SMTP replies",
      tag: 'emails',
      permission: 'logs:read',
      query: z.strictObject({ email_id: z.uuid().meta({ description: "the email's id" }) }),
      response: z.object({
        object: z.literal('list'),
        email_id: z.uuid(),
        data: z.array(emailEventSchema),
      }),
      handler: async ({ query, request }) => {
        const tenantId = callerOf(request).tenantId;
        if (!(await emailExists(pool, tenantId, query.email_id)))
          throw notFound(`email ${query.email_id}`);
        const events = await listEmailEvents(pool, tenantId, query.email_id);
        return { object: 'list', email_id: query.email_id, data: events };
      },
    }),
  ];
}
