import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import {
  type ApiKeyRow,
  countLiveKeysForUpdate,
  findApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../auth/api-key-repository.js';
import { generateApiKey } from '../../auth/api-key-secret.js';
import {
  canGrant,
  OPERATOR_PERMISSIONS,
  PERMISSIONS,
  type Permission,
} from '../../auth/permissions.js';
import { inTransaction } from '../../db/transaction.js';
import { ApiError, notFound } from '../api-error.js';
import { auditContext, callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import {
  displayName,
  idParams,
  listBody,
  listSchema,
  pageWindow,
  paginationQuery,
  timestamp,
} from '../schemas/common.js';
import type { ServerDeps } from '../server-deps.js';

// Resend's two access levels, accepted as shorthands for permission lists.
const RESEND_PERMISSIONS: Record<string, Permission[]> = {
  full_access: ['*'],
  sending_access: ['send'],
};

const createKeySchema = z
  .strictObject({
    name: displayName,
    permissions: z.array(z.enum(PERMISSIONS)).min(1).max(PERMISSIONS.length).optional(),
    permission: z
      .enum(['full_access', 'sending_access'])
      .optional()
      .meta({ description: "Resend's form" }),
  })
  .refine((body) => !(body.permissions && body.permission), {
    path: ['permission'],
    message: 'give permissions or permission, not both',
  });

const apiKeySchema = z.object({
  object: z.literal('api_key'),
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  permissions: z.array(z.enum(PERMISSIONS)),
  bootstrap: z.boolean(),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
});

function apiKeyView(row: ApiKeyRow) {
  return {
    object: 'api_key' as const,
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    permissions: row.permissions,
    bootstrap: row.is_bootstrap,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  };
}

/** /v1/api-keys: create (the key is shown once), list (never the key), revoke. */
export function apiKeyRoutes({ pool, config }: ServerDeps): RouteSpec[] {
  const cap = config.http.apiKeysPerTenant;
  return [
    route({
      method: 'POST',
      url: '/v1/api-keys',
      summary: 'Create an API key; the key (token) is in this answer only',
      tag: 'api-keys',
      permission: 'api-keys:write',
      body: createKeySchema,
      status: 201,
      response: apiKeySchema.extend({ token: z.string() }),
      handler: async ({ body, request }) => {
        const caller = callerOf(request);
        const permissions = unique(
          body.permissions ??
            RESEND_PERMISSIONS[body.permission ?? 'full_access'] ??
            (['*'] as Permission[]),
        );
        if (!canGrant(caller.permissions, permissions)) {
          throw new ApiError(
            403,
            'restricted_api_key',
            `permissions: this API key can only grant permissions it holds itself (${caller.permissions.join(', ')})`,
          );
        }
        const operatorOnly = permissions.filter((p) => OPERATOR_PERMISSIONS.includes(p));
        if (operatorOnly.length > 0 && !caller.isOperatorTenant) {
          throw new ApiError(
            403,
            'restricted_api_key',
            `permissions: ${operatorOnly.join(', ')} can only be held by keys of the operator's tenant (the one API_KEY belongs to)`,
          );
        }
        const secret = generateApiKey();
        const row = await inTransaction(pool, async (client) => {
          if ((await countLiveKeysForUpdate(client, caller.tenantId)) >= cap) {
            throw new ApiError(
              409,
              'conflict',
              `name: this tenant already has ${cap} live API keys, the most API_KEYS_PER_TENANT allows; revoke one first, or raise API_KEYS_PER_TENANT`,
            );
          }
          const created = await insertApiKey(client, {
            tenantId: caller.tenantId,
            name: body.name,
            prefix: secret.prefix,
            hash: secret.hash,
            permissions,
          });
          await recordAudit(client, {
            ...auditContext(request),
            action: 'api_key.created',
            targetType: 'api_key',
            targetId: created.id,
            detail: { name: created.name, permissions },
          });
          return created;
        });
        return { ...apiKeyView(row), token: secret.key };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/api-keys',
      summary: 'List API keys (never the keys themselves)',
      tag: 'api-keys',
      permission: 'api-keys:read',
      query: z.strictObject({
        ...paginationQuery,
        include_revoked: z.enum(['true', 'false']).default('false'),
      }),
      response: listSchema(apiKeySchema),
      handler: async ({ query, request }) => {
        const { rows, total } = await listApiKeys(pool, callerOf(request).tenantId, {
          ...pageWindow(query),
          includeRevoked: query.include_revoked === 'true',
        });
        return listBody(rows.map(apiKeyView), query, total);
      },
    }),
    route({
      method: 'DELETE',
      url: '/v1/api-keys/:id',
      summary: 'Revoke an API key (it stops working at once, on every instance)',
      tag: 'api-keys',
      permission: 'api-keys:write',
      params: idParams('API key'),
      response: z.object({ object: z.literal('api_key'), id: z.uuid(), revoked: z.literal(true) }),
      handler: async ({ params, request }) => {
        const caller = callerOf(request);
        const { tenantId } = caller;
        await inTransaction(pool, async (client) => {
          const key = await findApiKey(client, tenantId, params.id);
          if (!key || key.revoked_at) throw notFound(`API key ${params.id}`);
          if (!canGrant(caller.permissions, key.permissions as Permission[])) {
            throw new ApiError(
              403,
              'restricted_api_key',
              `id: this API key can only revoke keys whose permissions it holds itself (${caller.permissions.join(', ')}); API key ${params.id} has ${key.permissions.join(', ')}`,
            );
          }
          if (key.is_bootstrap) {
            throw new ApiError(
              409,
              'conflict',
              'id: the bootstrap key follows the API_KEY variable; rotate it by changing API_KEY and restarting',
            );
          }
          await revokeApiKey(client, tenantId, params.id);
          await recordAudit(client, {
            ...auditContext(request),
            action: 'api_key.revoked',
            targetType: 'api_key',
            targetId: params.id,
          });
        });
        return { object: 'api_key', id: params.id, revoked: true };
      },
    }),
  ];
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
