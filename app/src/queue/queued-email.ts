/** An emails row as a worker claims it: everything needed to build and deliver the message. */
export interface QueuedEmail {
  readonly id: string;
  readonly tenantId: string;
  readonly fromAddress: string;
  readonly toAddresses: readonly string[];
  readonly ccAddresses: readonly string[];
  readonly bccAddresses: readonly string[];
  readonly replyTo: readonly string[];
  readonly subject: string;
  readonly html: string | null;
  readonly text: string | null;
  /** Custom headers, name -> value (validated by the API when accepted). */
  readonly headers: Readonly<Record<string, unknown>>;
  /** Resend-shaped: `{ filename, content (base64), content_type? }`. */
  readonly attachments: readonly unknown[];
  /** Delivery attempts started so far, this one included. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** Columns selected for a claim, as `QueuedEmail` fields. */
export const QUEUED_EMAIL_COLUMNS = `
  id, tenant_id AS "tenantId", from_address AS "fromAddress", to_addresses AS "toAddresses",
  cc_addresses AS "ccAddresses", bcc_addresses AS "bccAddresses", reply_to AS "replyTo",
  subject, html, text, headers, attachments, attempts, created_at AS "createdAt"`;
