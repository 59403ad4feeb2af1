import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/event-types.js';
import type { WebhookRow } from '../../webhooks/webhook-repository.js';
import { timestamp } from './common.js';

const eventList = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((events) => [...new Set(events)]);

const endpoint = z.string().min(1).max(2048).meta({
  description: 'https://, or http:// to a host in WEBHOOK_ALLOW_HTTP_HOSTS',
});

export const createWebhookSchema = z.strictObject({ endpoint, events: eventList });

export const updateWebhookSchema = z.strictObject({
  endpoint: endpoint.optional(),
  events: eventList.optional(),
  status: z.enum(['enabled', 'disabled']).optional(),
});

/** Resend's `?limit=&after=` cursor pagination. */
export const webhookListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.uuid({ message: 'must be the id of the last item of the previous page' }).optional(),
});

const summary = {
  id: z.uuid(),
  endpoint: z.string(),
  created_at: timestamp,
  status: z.enum(['enabled', 'disabled']),
  events: z.array(z.string()),
};

export const webhookSummarySchema = z.object(summary);
export const webhookSchema = z.object({
  object: z.literal('webhook'),
  ...summary,
  signing_secret: z.string(),
});
export const webhookSecretSchema = z.object({
  object: z.literal('webhook'),
  id: z.uuid(),
  signing_secret: z.string(),
});

export function webhookSummaryView(row: WebhookRow) {
  return {
    id: row.id,
    endpoint: row.url,
    created_at: row.created_at.toISOString(),
    status: row.enabled ? ('enabled' as const) : ('disabled' as const),
    events: row.events,
  };
}

export function webhookView(row: WebhookRow) {
  return { object: 'webhook' as const, ...webhookSummaryView(row), signing_secret: row.secret };
}
