import type { OutgoingEmail } from '../smtp/outgoing-email.js';

/** An emails row as a worker claims it: everything needed to build and deliver the message. */
export interface QueuedEmail extends OutgoingEmail {
  readonly tenantId: string;
  /** Delivery attempts started so far, this one included. */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** Columns selected for a claim, as `QueuedEmail` fields. */
export const QUEUED_EMAIL_COLUMNS = `
  id, tenant_id AS "tenantId", from_address AS "fromAddress", to_addresses AS "toAddresses",
  cc_addresses AS "ccAddresses", bcc_addresses AS "bccAddresses", reply_to AS "replyTo",
  subject, html, text, headers, attachments, attempts, created_at AS "createdAt"`;
