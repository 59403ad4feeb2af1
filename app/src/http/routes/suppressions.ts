import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import { inTransaction } from '../../db/transaction.js';
import { parseMailbox } from '../../emails/email-address.js';
import {
  addSuppression,
  findSuppression,
  listSuppressions,
  removeSuppression,
  type SuppressionRow,
} from '../../emails/suppression-repository.js';
import { notFound, validationError } from '../api-error.js';
import { auditContext, callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import { timestamp } from '../schemas/common.js';
import type { ServerDeps } from '../server-deps.js';

const ORIGINS = ['bounce', 'manual'] as const;

const suppressionFields = {
  id: z.uuid(),
  email: z.string(),
  origin: z.enum(ORIGINS),
  source_id: z.uuid().nullable(),
  reason: z.string(),
  created_at: timestamp,
};
const suppressionSchema = z.object({ object: z.literal('suppression'), ...suppressionFields });

const view = (row: SuppressionRow) => ({
  id: row.id,
  email: row.email,
  origin: row.origin,
  source_id: row.source_id,
  reason: row.reason,
  created_at: row.created_at,
});

const idOrEmailParams = z.strictObject({
  id: z.string().min(3).max(320).meta({ description: 'the entry id or the address' }),
});

/** /v1/suppressions: the tenant's suppression list, in the shapes of Resend's SDK. */
export function suppressionRoutes({ pool }: ServerDeps): RouteSpec[] {
  return [
    route({
      method: 'GET',
      url: '/v1/suppressions',
      summary: 'List suppressed addresses, newest first',
      tag: 'suppressions',
      permission: 'suppressions:read',
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        after: z
          .uuid({ message: 'must be the id of the last item of the previous page' })
          .optional(),
        origin: z.enum(ORIGINS).optional(),
      }),
      response: z.object({
        object: z.literal('list'),
        has_more: z.boolean(),
        data: z.array(z.object(suppressionFields)),
      }),
      handler: async ({ query, request }) => {
        const { rows, hasMore } = await listSuppressions(pool, callerOf(request).tenantId, query);
        return { object: 'list', has_more: hasMore, data: rows.map(view) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/suppressions/:id',
      summary: 'One suppressed address, by address or entry id',
      tag: 'suppressions',
      permission: 'suppressions:read',
      params: idOrEmailParams,
      response: suppressionSchema,
      handler: async ({ params, request }) => {
        const row = await findSuppression(pool, callerOf(request).tenantId, params.id);
        if (!row) throw notFound(`suppression ${params.id}`);
        return { object: 'suppression', ...view(row) };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/suppressions',
      summary: 'Suppress an address: delivery skips it until it is removed',
      tag: 'suppressions',
      permission: 'suppressions:write',
      body: z.strictObject({
        email: z.string().min(3).max(320),
        reason: z.string().max(1000).optional(),
      }),
      status: 201,
      response: z.object({ object: z.literal('suppression'), id: z.uuid() }),
      handler: async ({ body, request }) => {
        const mailbox = parseMailbox(body.email);
        if ('error' in mailbox) throw validationError('email', mailbox.error);
        const { row } = await inTransaction(pool, async (client) => {
          const result = await addSuppression(
            client,
            callerOf(request).tenantId,
            mailbox.address,
            body.reason ?? 'added by hand',
          );
          if (result.added)
            await auditSuppression(client, request, 'suppression.added', result.row);
          return result;
        });
        return { object: 'suppression', id: row.id };
      },
    }),
    route({
      method: 'DELETE',
      url: '/v1/suppressions/:id',
      summary: 'Remove an address from the list, by address or entry id',
      tag: 'suppressions',
      permission: 'suppressions:write',
      params: idOrEmailParams,
      response: z.object({ object: z.literal('suppression'), id: z.uuid(), deleted: z.boolean() }),
      handler: async ({ params, request }) => {
        const row = await inTransaction(pool, async (client) => {
          const removed = await removeSuppression(client, callerOf(request).tenantId, params.id);
          if (removed) await auditSuppression(client, request, 'suppression.removed', removed);
          return removed;
        });
        if (!row) throw notFound(`suppression ${params.id}`);
        return { object: 'suppression', id: row.id, deleted: true };
      },
    }),
  ];
}

function auditSuppression(
  db: Parameters<typeof recordAudit>[0],
  request: Parameters<typeof auditContext>[0],
  action: string,
  row: SuppressionRow,
) {
  return recordAudit(db, {
    ...auditContext(request),
    action,
    targetType: 'suppression',
    targetId: row.id,
    detail: { email: row.email, origin: row.origin },
  });
}
