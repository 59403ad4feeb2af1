/**
 * The events SelfMX emits, named as Resend names them (the SDK's `WebhookEvent`). A webhook
 * subscribes to some of them.
 */
export const WEBHOOK_EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.bounced',
  'email.failed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
