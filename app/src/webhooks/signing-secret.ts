import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the HMAC key). */
export function generateSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

export type SignedHeaders = Readonly<
  Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>
>;

/**
 * The Standard Webhooks headers of one request: HMAC-SHA256 with the secret's key over
 * `<id>.<timestamp>.<body>`, base64, as `v1,<signature>`.
 */
export function signWebhook(
  secret: string,
  messageId: string,
  timestamp: Date,
  body: string,
): SignedHeaders {
  const key = Buffer.from(
    secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret,
    'base64',
  );
  const seconds = String(Math.floor(timestamp.getTime() / 1000));
  const signature = createHmac('sha256', key)
    .update(`${messageId}.${seconds}.${body}`)
    .digest('base64');
  return {
    'webhook-id': messageId,
    'webhook-timestamp': seconds,
    'webhook-signature': `v1,${signature}`,
  };
}
