/**
 * The events SelfMX emits, named as Resend names them (the SDK's `WebhookEvent`). A webhook
 * subscribes to some of them.
 */
export const WEBHOOK_EVENT_TYPES = [
  'email.scheduled',
  'email.sent',
  'email.delivered',
  'email.delivery_delayed',
  'email.bounced',
  'email.failed',
  'email.suppressed',
  'suppression.added',
  'suppression.removed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
