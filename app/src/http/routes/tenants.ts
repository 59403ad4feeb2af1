import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import { insertApiKey } from '../../auth/api-key-repository.js';
import { generateApiKey } from '../../auth/api-key-secret.js';
import { inTransaction } from '../../db/transaction.js';
import {
  findTenant,
  insertTenant,
  listTenants,
  type Tenant,
  type TenantLimits,
  updateTenant,
} from '../../tenants/tenant-repository.js';
import { tenantUsage } from '../../tenants/tenant-usage.js';
import { ApiError, conflict, notFound } from '../api-error.js';
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

const ADMIN_KEY_NAME = 'admin (created with the tenant)';
/** Far above any daily volume, and within a JavaScript number's exact integers. */
const MAX_QUOTA = 1e15;

const limitsSchema = z.strictObject({
  requests_per_window: z.number().int().min(1).max(1_000_000_000).nullable().optional().meta({
    description: "requests per window across all the tenant's keys; null: none",
  }),
  window_seconds: z.number().int().min(1).max(86_400).optional().meta({
    description: 'length of the request window @default 60',
  }),
  daily_emails: z.number().int().min(0).max(MAX_QUOTA).nullable().optional().meta({
    description: 'emails accepted per UTC day; null: no quota',
  }),
  daily_bytes: z.number().int().min(0).max(MAX_QUOTA).nullable().optional().meta({
    description:
      'bytes of content (subject, bodies, decoded attachments) per UTC day; null: no quota',
  }),
});

const tenantSchema = z.object({
  object: z.literal('tenant'),
  id: z.uuid(),
  name: z.string(),
  created_at: timestamp,
  disabled: z.boolean(),
  disabled_at: timestamp.nullable(),
  limits: z.object({
    requests_per_window: z.number().int().nullable(),
    window_seconds: z.number().int(),
    daily_emails: z.number().int().nullable(),
    daily_bytes: z.number().int().nullable(),
  }),
});

function tenantView(tenant: Tenant) {
  return {
    object: 'tenant' as const,
    id: tenant.id,
    name: tenant.name,
    created_at: tenant.createdAt,
    disabled: tenant.disabledAt !== null,
    disabled_at: tenant.disabledAt,
    limits: {
      requests_per_window: tenant.rateLimitRequests,
      window_seconds: tenant.rateLimitWindowSeconds,
      daily_emails: tenant.dailyEmailQuota,
      daily_bytes: tenant.dailyByteQuota,
    },
  };
}

function limitsOf(limits: z.output<typeof limitsSchema> | undefined): Partial<TenantLimits> {
  return {
    rateLimitRequests: limits?.requests_per_window,
    rateLimitWindowSeconds: limits?.window_seconds,
    dailyEmailQuota: limits?.daily_emails,
    dailyByteQuota: limits?.daily_bytes,
  };
}

const nameTaken = (name: string) =>
  conflict('conflict', `name: a tenant named "${name}" exists already; choose another name`);

/**
 * /v1/tenants, for the operator: keys of the operator's tenant (the one API_KEY belongs to)
 * with tenants:read or tenants:write; the authentication hook refuses every other tenant's keys.
 */
export function tenantRoutes({ pool }: ServerDeps): RouteSpec[] {
  return [
    route({
      method: 'POST',
      url: '/v1/tenants',
      summary: 'Create a tenant; its first admin key (token) is in this answer only',
      tag: 'tenants',
      permission: 'tenants:write',
      body: z.strictObject({ name: displayName, limits: limitsSchema.optional() }),
      status: 201,
      response: tenantSchema.extend({
        api_key: z.object({
          id: z.uuid(),
          name: z.string(),
          permissions: z.array(z.string()),
          token: z.string(),
        }),
      }),
      handler: async ({ body, request }) => {
        const secret = generateApiKey();
        const { tenant, keyId } = await inTransaction(pool, async (client) => {
          const created = await insertTenant(client, body.name, limitsOf(body.limits));
          if (!created) throw nameTaken(body.name);
          const key = await insertApiKey(client, {
            tenantId: created.id,
            name: ADMIN_KEY_NAME,
            prefix: secret.prefix,
            hash: secret.hash,
            permissions: ['*'],
          });
          const by = auditContext(request);
          await recordAudit(client, {
            ...by,
            action: 'tenant.created',
            targetType: 'tenant',
            targetId: created.id,
            detail: { name: created.name, limits: body.limits ?? {} },
          });
          await recordAudit(client, {
            ...by,
            tenantId: created.id,
            action: 'api_key.created',
            targetType: 'api_key',
            targetId: key.id,
            detail: { name: key.name, permissions: ['*'], by_operator: true },
          });
          return { tenant: created, keyId: key.id };
        });
        return {
          ...tenantView(tenant),
          api_key: { id: keyId, name: ADMIN_KEY_NAME, permissions: ['*'], token: secret.key },
        };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tenants',
      summary: 'List tenants with their limits, oldest first',
      tag: 'tenants',
      permission: 'tenants:read',
      query: z.strictObject(paginationQuery),
      response: listSchema(tenantSchema),
      handler: async ({ query }) => {
        const { tenants, total } = await listTenants(pool, pageWindow(query));
        return listBody(tenants.map(tenantView), query, total);
      },
    }),
    route({
      method: 'PATCH',
      url: '/v1/tenants/:id',
      summary: "Set a tenant's limits, rename, disable (keys refused, emails held) or enable it",
      tag: 'tenants',
      permission: 'tenants:write',
      params: idParams('tenant'),
      body: z.strictObject({
        name: displayName.optional(),
        disabled: z.boolean().optional().meta({
          description:
            'true: its keys get 403 and its queued emails are held; false: released again',
        }),
        limits: limitsSchema.optional(),
      }),
      response: tenantSchema,
      handler: async ({ params, body, request }) => {
        if (body.disabled === true && params.id === callerOf(request).tenantId) {
          throw new ApiError(
            409,
            'conflict',
            "disabled: the operator's own tenant cannot be disabled (its keys administer the others)",
          );
        }
        const updated = await inTransaction(pool, async (client) => {
          const result = await updateTenant(client, params.id, {
            ...limitsOf(body.limits),
            name: body.name,
            disabled: body.disabled,
          });
          if (result === 'name_taken') throw nameTaken(body.name ?? '');
          if (!result) throw notFound(`tenant ${params.id}`);
          await recordAudit(client, {
            ...auditContext(request),
            action: body.disabled === true ? 'tenant.disabled' : 'tenant.updated',
            targetType: 'tenant',
            targetId: params.id,
            detail: body,
          });
          return result;
        });
        return tenantView(updated);
      },
    }),
  ];
}

const usagePeriodSchema = z.object({
  used: z.number().int().meta({ description: 'emails accepted (Resend: used)' }),
  limit: z.number().int().nullable().meta({ description: 'the daily email quota; null: none' }),
  sent: z.number().int().meta({ description: 'emails delivered' }),
  received: z.literal(0),
  resets_at: timestamp,
  accepted: z.number().int(),
  delivered: z.number().int(),
  bounced: z.number().int(),
  bytes: z.number().int(),
  bytes_limit: z.number().int().nullable(),
});

/** GET /v1/usage: the key's tenant, in the shape of Resend's `usage.get` (emails, rate_limit). */
export function usageRoute({ pool, config }: ServerDeps): RouteSpec {
  return route({
    method: 'GET',
    url: '/v1/usage',
    summary:
      "The key's tenant: emails accepted, delivered, bounced and bytes, today and this month",
    tag: 'tenants',
    permission: 'logs:read',
    response: z.object({
      object: z.literal('usage'),
      emails: z.object({ daily: usagePeriodSchema, monthly: usagePeriodSchema }),
      rate_limit: z.object({ limit: z.number().int(), duration: z.string() }),
    }),
    handler: async ({ request }) => {
      const { tenantId } = callerOf(request);
      const [usage, tenant] = await Promise.all([
        tenantUsage(pool, tenantId),
        listTenantLimits(pool, tenantId),
      ]);
      const view = (period: typeof usage.daily, daily: boolean) => ({
        used: period.accepted,
        limit: daily ? tenant.dailyEmailQuota : null,
        sent: period.delivered,
        received: 0 as const,
        resets_at: period.resetsAt,
        accepted: period.accepted,
        delivered: period.delivered,
        bounced: period.bounced,
        bytes: period.bytes,
        bytes_limit: daily ? tenant.dailyByteQuota : null,
      });
      const rateLimit =
        tenant.rateLimitRequests === null
          ? {
              limit: config.http.rateLimitRequests,
              duration: `${config.http.rateLimitWindowSeconds}s`,
            }
          : { limit: tenant.rateLimitRequests, duration: `${tenant.rateLimitWindowSeconds}s` };
      return {
        object: 'usage',
        emails: { daily: view(usage.daily, true), monthly: view(usage.monthly, false) },
        rate_limit: rateLimit,
      };
    },
  });
}

async function listTenantLimits(pool: ServerDeps['pool'], tenantId: string): Promise<Tenant> {
  const tenant = await findTenant(pool, tenantId);
  if (!tenant) throw notFound(`tenant ${tenantId}`);
  return tenant;
}
