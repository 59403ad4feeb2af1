import { z } from 'zod';
import { listAudit } from '../../audit/audit-log.js';
import { callerOf } from '../caller.js';
import { route } from '../route-spec.js';
import { listBody, listSchema, pageWindow, paginationQuery, timestamp } from '../schemas/common.js';
import type { ServerDeps } from '../server-deps.js';

const auditEntrySchema = z.object({
  id: z.string(),
  actor_key_id: z.uuid().nullable(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  request_id: z.string().nullable(),
  ip: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  created_at: timestamp,
});

/**
 * GET /v1/audit: the tenant's audit trail. The bootstrap (operator) key also sees failed
 * authentications with unknown keys, which belong to no tenant.
 */
export function auditRoutes({ pool }: ServerDeps) {
  return [
    route({
      method: 'GET',
      url: '/v1/audit',
      summary: 'Audit log, newest first, with filters',
      tag: 'audit',
      permission: 'logs:read',
      query: z.strictObject({
        ...paginationQuery,
        action: z
          .string()
          .max(100)
          .optional()
          .meta({ description: 'e.g. email.accepted, auth.failed' }),
        actor_key_id: z.uuid().optional(),
        target_type: z.string().max(100).optional(),
        target_id: z.string().max(200).optional(),
        since: z.iso
          .datetime({ offset: true })
          .optional()
          .meta({ description: 'ISO-8601, inclusive' }),
        until: z.iso
          .datetime({ offset: true })
          .optional()
          .meta({ description: 'ISO-8601, exclusive' }),
      }),
      response: listSchema(auditEntrySchema),
      handler: async ({ query, request }) => {
        const caller = callerOf(request);
        const { rows, total } = await listAudit(pool, caller.tenantId, {
          ...pageWindow(query),
          action: query.action,
          actorKeyId: query.actor_key_id,
          targetType: query.target_type,
          targetId: query.target_id,
          since: query.since ? new Date(query.since) : undefined,
          until: query.until ? new Date(query.until) : undefined,
          includeUnattributed: caller.isBootstrap,
        });
        return listBody(rows, query, total);
      },
    }),
  ];
}
