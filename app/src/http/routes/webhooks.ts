import { z } from 'zod';
import { recordAudit } from '../../audit/audit-log.js';
import { inTransaction } from '../../db/transaction.js';
import {
  bareHost,
  checkEndpointUrl,
  type EndpointPolicy,
  EndpointRefusedError,
  resolveAllowedAddress,
} from '../../webhooks/endpoint-policy.js';
import { generateSigningSecret } from '../../webhooks/signing-secret.js';
import {
  findWebhookEvent,
  listWebhookAttempts,
  listWebhookEvents,
  replayWebhookEvent,
  type WebhookEventRow,
} from '../../webhooks/webhook-event-log.js';
import {
  createWebhook,
  deleteWebhook,
  findWebhook,
  listWebhooks,
  replaceSigningSecret,
  updateWebhook,
} from '../../webhooks/webhook-repository.js';
import { notFound, validationError } from '../api-error.js';
import { auditContext, callerOf } from '../caller.js';
import { type RouteSpec, route } from '../route-spec.js';
import { idParams, timestamp } from '../schemas/common.js';
import {
  createWebhookSchema,
  updateWebhookSchema,
  webhookListQuery,
  webhookSchema,
  webhookSecretSchema,
  webhookSummarySchema,
  webhookSummaryView,
  webhookView,
} from '../schemas/webhook.js';
import type { ServerDeps } from '../server-deps.js';

/** /v1/webhooks: endpoints that receive signed events, in the shapes of Resend's SDK. */
export function webhookRoutes({ pool, config }: ServerDeps): RouteSpec[] {
  const webhookId = idParams('webhook');
  const policy: EndpointPolicy = config.webhooks;

  return [
    route({
      method: 'POST',
      url: '/v1/webhooks',
      summary: 'Create a webhook; its signing secret is in the answer',
      tag: 'webhooks',
      permission: 'webhooks:write',
      body: createWebhookSchema,
      status: 201,
      response: webhookSecretSchema,
      handler: async ({ body, request }) => {
        const url = await checkedEndpoint(body.endpoint, policy);
        const row = await inTransaction(pool, async (client) => {
          const saved = await createWebhook(client, callerOf(request).tenantId, {
            url,
            events: body.events,
            secret: generateSigningSecret(),
          });
          await recordAudit(client, {
            ...auditContext(request),
            action: 'webhook.created',
            targetType: 'webhook',
            targetId: saved.id,
            detail: { endpoint: saved.url, events: saved.events },
          });
          return saved;
        });
        return { object: 'webhook', id: row.id, signing_secret: row.secret };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/webhooks',
      summary: 'List webhooks, newest first',
      tag: 'webhooks',
      permission: 'webhooks:read',
      query: webhookListQuery,
      response: z.object({
        object: z.literal('list'),
        has_more: z.boolean(),
        data: z.array(webhookSummarySchema),
      }),
      handler: async ({ query, request }) => {
        const { rows, hasMore } = await listWebhooks(pool, callerOf(request).tenantId, query);
        return { object: 'list', has_more: hasMore, data: rows.map(webhookSummaryView) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/webhooks/:id',
      summary: 'One webhook, with its status and signing secret',
      tag: 'webhooks',
      permission: 'webhooks:read',
      params: webhookId,
      response: webhookSchema,
      handler: async ({ params, request }) => {
        const row = await findWebhook(pool, callerOf(request).tenantId, params.id);
        if (!row) throw notFound(`webhook ${params.id}`);
        return webhookView(row);
      },
    }),
    route({
      method: 'PATCH',
      url: '/v1/webhooks/:id',
      summary: 'Change the endpoint, the events or the status (enabled, disabled)',
      tag: 'webhooks',
      permission: 'webhooks:write',
      params: webhookId,
      body: updateWebhookSchema,
      response: z.object({ object: z.literal('webhook'), id: z.uuid() }),
      handler: async ({ params, body, request }) => {
        const url =
          body.endpoint === undefined ? undefined : await checkedEndpoint(body.endpoint, policy);
        await inTransaction(pool, async (client) => {
          const row = await updateWebhook(client, callerOf(request).tenantId, params.id, {
            url,
            events: body.events,
            enabled: body.status === undefined ? undefined : body.status === 'enabled',
          });
          if (!row) throw notFound(`webhook ${params.id}`);
          await recordAudit(client, {
            ...auditContext(request),
            action: 'webhook.updated',
            targetType: 'webhook',
            targetId: row.id,
            detail: { fields: Object.keys(body), status: body.status },
          });
        });
        return { object: 'webhook', id: params.id };
      },
    }),
    route({
      method: 'DELETE',
      url: '/v1/webhooks/:id',
      summary: 'Delete a webhook and its undelivered events',
      tag: 'webhooks',
      permission: 'webhooks:write',
      params: webhookId,
      response: z.object({ object: z.literal('webhook'), id: z.uuid(), deleted: z.literal(true) }),
      handler: async ({ params, request }) => {
        await inTransaction(pool, async (client) => {
          if (!(await deleteWebhook(client, callerOf(request).tenantId, params.id))) {
            throw notFound(`webhook ${params.id}`);
          }
          await recordAudit(client, {
            ...auditContext(request),
            action: 'webhook.deleted',
            targetType: 'webhook',
            targetId: params.id,
          });
        });
        return { object: 'webhook', id: params.id, deleted: true };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/webhooks/:id/signing-secret/rotate',
      summary: 'Replace the signing secret; the old one stops signing at once',
      tag: 'webhooks',
      permission: 'webhooks:write',
      params: webhookId,
      response: webhookSecretSchema,
      handler: async ({ params, request }) => {
        const secret = generateSigningSecret();
        await inTransaction(pool, async (client) => {
          if (
            !(await replaceSigningSecret(client, callerOf(request).tenantId, params.id, secret))
          ) {
            throw notFound(`webhook ${params.id}`);
          }
          await recordAudit(client, {
            ...auditContext(request),
            action: 'webhook.secret_rotated',
            targetType: 'webhook',
            targetId: params.id,
          });
        });
        return { object: 'webhook', id: params.id, signing_secret: secret };
      },
    }),
    ...eventRoutes(pool),
  ];
}

const eventParams = z.strictObject({
  id: z.uuid({ message: "must be a UUID (the webhook's id)" }),
  eventId: z.uuid({ message: "must be a UUID (the event's id)" }),
});
const eventStatus = z.enum(['pending', 'attempting', 'success', 'failed']);
const eventSummarySchema = z.object({
  id: z.uuid(),
  type: z.string(),
  created_at: timestamp,
  status: eventStatus,
});
const listOf = (item: z.ZodType) =>
  z.object({ object: z.literal('list'), has_more: z.boolean(), data: z.array(item) });

function eventSummary(row: WebhookEventRow) {
  return {
    id: row.id,
    type: row.type,
    created_at: row.created_at.toISOString(),
    status: row.status,
  };
}

/** /v1/webhooks/{id}/events: what was sent to an endpoint, each attempt, and replays. */
function eventRoutes(pool: ServerDeps['pool']): RouteSpec[] {
  const ownedEvent = async (tenantId: string, webhookId: string, eventId: string) => {
    const row = await findWebhookEvent(pool, tenantId, webhookId, eventId);
    if (!row) throw notFound(`event ${eventId} of webhook ${webhookId}`);
    return row;
  };
  return [
    route({
      method: 'GET',
      url: '/v1/webhooks/:id/events',
      summary: "A webhook's events, newest first",
      tag: 'webhooks',
      permission: 'webhooks:read',
      params: idParams('webhook'),
      query: webhookListQuery,
      response: listOf(eventSummarySchema),
      handler: async ({ params, query, request }) => {
        const { tenantId } = callerOf(request);
        if (!(await findWebhook(pool, tenantId, params.id))) throw notFound(`webhook ${params.id}`);
        const { rows, hasMore } = await listWebhookEvents(pool, tenantId, params.id, query);
        return { object: 'list', has_more: hasMore, data: rows.map(eventSummary) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/webhooks/:id/events/:eventId',
      summary: 'One event, with its payload',
      tag: 'webhooks',
      permission: 'webhooks:read',
      params: eventParams,
      response: eventSummarySchema.extend({
        object: z.literal('webhook_event'),
        next_attempt_at: timestamp.nullable(),
        payload: z.record(z.string(), z.unknown()),
      }),
      handler: async ({ params, request }) => {
        const row = await ownedEvent(callerOf(request).tenantId, params.id, params.eventId);
        const waiting = row.status === 'pending' || row.status === 'attempting';
        return {
          object: 'webhook_event',
          ...eventSummary(row),
          next_attempt_at: waiting ? row.next_attempt_at.toISOString() : null,
          payload: row.payload,
        };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/webhooks/:id/events/:eventId/attempts',
      summary: "An event's attempts, oldest first: HTTP status (0: no answer), the answer's start",
      tag: 'webhooks',
      permission: 'webhooks:read',
      params: eventParams,
      query: z.strictObject({
        limit: z.coerce.number().int().min(1).max(100).default(20),
        after: z
          .string()
          .regex(/^\d{1,18}$/, 'must be the id of the last attempt of the previous page')
          .optional(),
      }),
      response: listOf(
        z.object({
          id: z.string(),
          http_status_code: z.number().int(),
          response: z.string(),
          sent_at: timestamp,
        }),
      ),
      handler: async ({ params, query, request }) => {
        await ownedEvent(callerOf(request).tenantId, params.id, params.eventId);
        const { rows, hasMore } = await listWebhookAttempts(pool, params.eventId, query);
        return {
          object: 'list',
          has_more: hasMore,
          data: rows.map((row) => ({
            id: row.id,
            http_status_code: row.http_status ?? 0,
            response: row.response,
            sent_at: row.sent_at.toISOString(),
          })),
        };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/webhooks/:id/events/:eventId/replay',
      summary: 'Send an event again (same webhook-id), from the start of the retry schedule',
      tag: 'webhooks',
      permission: 'webhooks:write',
      params: eventParams,
      response: z.object({ object: z.literal('webhook_event'), id: z.uuid() }),
      handler: async ({ params, request }) => {
        await inTransaction(pool, async (client) => {
          const { tenantId } = callerOf(request);
          if (!(await replayWebhookEvent(client, tenantId, params.id, params.eventId))) {
            throw notFound(`event ${params.eventId} of webhook ${params.id}`);
          }
          await recordAudit(client, {
            ...auditContext(request),
            action: 'webhook.event_replayed',
            targetType: 'webhook',
            targetId: params.id,
            detail: { event_id: params.eventId },
          });
        });
        return { object: 'webhook_event', id: params.eventId };
      },
    }),
  ];
}

/** The endpoint as stored, once its form and its current addresses are acceptable. */
async function checkedEndpoint(raw: string, policy: EndpointPolicy): Promise<string> {
  try {
    const url = checkEndpointUrl(raw, policy);
    await resolveAllowedAddress(bareHost(url), policy);
    return url.href;
  } catch (error) {
    if (error instanceof EndpointRefusedError) throw validationError('endpoint', error.message);
    throw error;
  }
}
